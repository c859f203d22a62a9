"""pytest fixtures that run a real Docket server: see README.md."""
from docket_pytest.server import DocketServer

__all__ = ["DocketServer"]
