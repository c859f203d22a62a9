"""`docket --version` names the release and the git commit it was built
from, and buildInfo reports the same commit as its gitVersion (where
mongod reports its own), with MongoDB's version whose semantics Docket
follows as `version`."""
import re
import subprocess

from conftest import DOCKET


def test_version_flag_names_release_and_commit(server):
    result = subprocess.run([DOCKET, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"docket (\d+\.\d+\.\d+) \(git ([0-9a-f]{40}(?:-modified)?|unknown)\), "
                         r"MongoDB 6\.0 semantics\n", result.stdout)
    assert match, result.stdout
    info = server.client().admin.command("buildInfo")
    assert info["version"].startswith("6.0.")
    assert info["docketVersion"] == match.group(1)
    assert info["gitVersion"] == match.group(2)
