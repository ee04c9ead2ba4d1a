from udaconnect_common.settings import CommonSettings


class PersonApiSettings(CommonSettings):
    http_host: str = "127.0.0.1"
    http_port: int = 8001
    # The read-only role: this service never writes to the database.
    database_url: str = "postgresql+psycopg://udaconnect_reader:udaconnect_reader@127.0.0.1:5433/udaconnect"
    # Upper bound on how long a POST waits for the broker's acknowledgement before answering 503.
    kafka_delivery_timeout_ms: int = 5000
    max_body_bytes: int = 64 * 1024
    http_workers: int = 1
    # Origins of the web front end, which calls this API from the browser.
    cors_allow_origins: tuple[str, ...] = ("http://localhost:3000", "http://127.0.0.1:3000")
