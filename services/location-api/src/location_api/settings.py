from udaconnect_common.settings import ApiSettings


class LocationApiSettings(ApiSettings):
    http_port: int = 8002
    # A batch of 1000 pings is about 150 kB of JSON.
    max_body_bytes: int = 512 * 1024
