from pydantic import Field

from udaconnect_common.settings import ApiSettings

# Under a second, with room for the HTTP around it.
DEFAULT_QUERY_BUDGET_MS = 900
DEFAULT_CONTACTS_INDEX_MAX_PINGS = 3_000_000


class ConnectionApiSettings(ApiSettings):
    http_port: int = 8003
    # Each request holds one connection for one statement; a few more than uvicorn's concurrency needs.
    database_pool_size: int = 10
    # Database time one request may use. A page of connections that reaches it ends early (shorter, with a
    # next link); contacts that would need more are a 422 saying what to ask instead. Bounds what any
    # request, whatever its parameters, costs the database.
    query_budget_ms: int = Field(default=DEFAULT_QUERY_BUDGET_MS, ge=50, le=60_000)
    # Contacts and connection pages from an in-memory index of every ping (24 bytes each, ~36 MB per
    # million, plus 8 for its two orders): 0 answers them by SQL only. With more pings than this the index
    # is not loaded.
    contacts_index_max_pings: int = Field(default=DEFAULT_CONTACTS_INDEX_MAX_PINGS, ge=0)
