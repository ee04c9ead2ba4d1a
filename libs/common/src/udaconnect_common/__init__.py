"""What UdaConnect's services truly share: settings base, ids, time conversion, Kafka and database plumbing.

The generated protobuf/gRPC code lives beside it, in the ``udaconnect.v1`` package.
"""
