"""UdaConnect connection API: whom a person was near (within D metres) between two dates."""
