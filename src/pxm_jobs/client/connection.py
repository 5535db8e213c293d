"""The options every client command takes, and how a command's failures become exit codes.

Exit codes: 0 done (a waited-for job succeeded); 1 the job failed or was cancelled; 2 the
service refused the request, or the client is not configured; 3 the service did not answer or
failed itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from pxm_jobs.client.output import err
from pxm_jobs.client.profile import ProfileProblem, resolve_profile

# The HTTP client is loaded by the first command that talks to a service: `pxm-jobs serve` and
# `pxm-jobs worker` start through this module and never need it.
if TYPE_CHECKING:
    from pxm_jobs.client.http import PxmClient

EXIT_JOB_FAILED = 1
EXIT_REFUSED = 2
EXIT_UNREACHABLE = 3

ApiUrlOption = Annotated[
    str | None,
    typer.Option("--api-url", envvar="PXM_API_URL", help="The service, e.g. http://127.0.0.1:8080"),
]
ClientIdOption = Annotated[
    str | None, typer.Option("--client-id", envvar="PXM_CLIENT_ID", help="An API key's client id.")
]
ClientSecretOption = Annotated[
    str | None,
    typer.Option("--client-secret", envvar="PXM_CLIENT_SECRET", help="That key's secret."),
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", envvar="PXM_PROFILE", help="A profile saved by `pxm-jobs login`."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON documents instead of a table.")
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait", help="Show a live progress bar until the job ends; exit 1 unless it succeeds."
    ),
]


@contextmanager
def client_for(
    api_url: str | None, client_id: str | None, client_secret: str | None, profile: str | None
) -> Iterator[PxmClient]:
    """A client of the service these options (or the profile) name; failures exit in words."""
    from pxm_jobs.client.http import ApiProblem, PxmClient, Unreachable

    try:
        chosen = resolve_profile(api_url, client_id, client_secret, profile)
        with PxmClient(chosen) as client:
            yield client
    except ProfileProblem as problem:
        err.print(f"[red]{problem}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    except ApiProblem as problem:
        for said in problem.problems:
            err.print(f"[red]{problem.status}:[/] {said}", highlight=False)
        raise typer.Exit(EXIT_REFUSED if problem.status < 500 else EXIT_UNREACHABLE) from None
    except Unreachable as problem:
        err.print(f"[red]{problem}[/]", highlight=False)
        raise typer.Exit(EXIT_UNREACHABLE) from None
