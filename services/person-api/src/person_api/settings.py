from udaconnect_common.settings import ApiSettings


class PersonApiSettings(ApiSettings):
    http_port: int = 8001
