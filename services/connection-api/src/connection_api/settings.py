from udaconnect_common.settings import ApiSettings


class ConnectionApiSettings(ApiSettings):
    http_port: int = 8003
    # Each request holds one connection for one statement; a few more than uvicorn's concurrency needs.
    database_pool_size: int = 10
