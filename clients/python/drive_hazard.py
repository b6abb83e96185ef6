"""Drives one hazard through its life with a client generated from the
served /openapi.json by openapi-python-client, as a park integrator would:
accounts created through the API, a hazard reported, planned, evidenced,
submitted and accepted, its events read, its photo downloaded, and the
yearly report fetched. Any missing argument, any response the generated
models cannot read, or any unexpected status fails the run.

Usage: python3 drive_hazard.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
(the generated package `ht_client` must be importable).
"""

import base64
import datetime
import io
import sys
import uuid

from ht_client import AuthenticatedClient, Client
from ht_client.api.analytics import get_ageing, get_scorecard
from ht_client.api.auth import get_me, issue_token
from ht_client.api.enterprises import create_enterprise
from ht_client.api.evidence import download_attachment, list_attachments, upload_attachment
from ht_client.api.hazards import (
    accept_hazard,
    create_hazard,
    get_hazard,
    list_hazard_events,
    plan_hazard,
    submit_hazard,
)
from ht_client.api.reference import get_vocabularies
from ht_client.api.stats import get_overview, get_yearly_report
from ht_client.api.users import create_user
from ht_client.models import (
    Ageing,
    AttachmentView,
    CheckSource,
    CreateEnterprise,
    CreateHazard,
    CreateUser,
    EnterpriseStatus,
    EnterpriseView,
    EventPage,
    EvidencePhase,
    HazardLevel,
    HazardState,
    HazardView,
    NotesRequest,
    Overview,
    PlanRequest,
    Report,
    Role,
    Scorecard,
    TokenRequest,
    TokenResponse,
    UploadForm,
    UserView,
    Vocabularies,
)
from ht_client.types import File

# A 1×1 PNG: the service judges files by their bytes.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code(serial: int) -> str:
    """A unified social credit code (GB 32100-2015) with its check digit."""
    body = f"91350100MA{serial:07d}"
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def expect(value, kind):
    if not isinstance(value, kind):
        raise SystemExit(f"expected {kind.__name__}, got {value!r}")
    return value


def sign_in(base: str, email: str, password: str) -> AuthenticatedClient:
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    token = expect(
        issue_token.sync(client=anonymous, body=TokenRequest(email=email, password=password)),
        TokenResponse,
    )
    return AuthenticatedClient(
        base_url=base, token=token.access_token, raise_on_unexpected_status=True
    )


def main(base: str, admin_email: str, admin_password: str) -> None:
    admin = sign_in(base, admin_email, admin_password)
    expect(get_me.sync(client=admin), UserView)
    run = uuid.uuid4().hex[:8]
    enterprise = expect(
        create_enterprise.sync(
            client=admin,
            body=CreateEnterprise(
                name=f"客户端测试化工有限公司 {run}",
                credit_code=credit_code(int(run, 16) % 10_000_000),
                status=EnterpriseStatus.PRODUCING,
                contact_emails=[f"ehs-{run}@plant.example.cn"],
            ),
        ),
        EnterpriseView,
    )
    password = "a long client password"
    clients = {}
    for role in (Role.EXPERT, Role.SUPERVISOR, Role.ENTERPRISE):
        email = f"client-{role.value}-{run}@park.example.cn"
        expect(
            create_user.sync(
                client=admin,
                body=CreateUser(
                    email=email,
                    name=f"客户端{role.value}",
                    role=role,
                    password=password,
                    enterprise_id=enterprise.id if role == Role.ENTERPRISE else None,
                ),
            ),
            UserView,
        )
        clients[role] = sign_in(base, email, password)
    expert, supervisor, contact = (
        clients[Role.EXPERT],
        clients[Role.SUPERVISOR],
        clients[Role.ENTERPRISE],
    )

    vocabularies = expect(get_vocabularies.sync(client=expert), Vocabularies)
    today = datetime.date.today()
    body = CreateHazard.from_dict(
        {
            "enterprise_id": str(enterprise.id),
            "source": CheckSource.RESIDENT_EXPERT.value,
            "title": "储罐区可燃气体报警器失效",
            "description": "2号储罐区东侧可燃气体检测报警器无显示",
            "location": "2号储罐区",
            "category": vocabularies.categories[0].label,
            "level": HazardLevel.GENERAL.value,
            "deadline": (today + datetime.timedelta(days=14)).isoformat(),
        }
    )
    hazard = expect(create_hazard.sync(client=expert, body=body), HazardView)
    assert hazard.state == HazardState.REPORTED, hazard.state

    hazard = expect(
        plan_hazard.sync(
            hazard.id,
            client=contact,
            body=PlanRequest(
                measures="更换报警器探头并校验",
                responsible_person="张工",
                funds=3500.0,
                contingency_plan="加强巡检,配备便携式检测仪",
            ),
            if_match=f'"{hazard.version}"',
        ),
        HazardView,
    )
    photo = expect(
        upload_attachment.sync(
            hazard.id,
            client=contact,
            body=UploadForm(
                file=File(payload=io.BytesIO(PNG), file_name="after.png", mime_type="image/png"),
                phase=EvidencePhase.AFTER,
                caption="更换后的报警器",
            ),
        ),
        AttachmentView,
    )
    hazard = expect(get_hazard.sync(hazard.id, client=contact), HazardView)
    hazard = expect(
        submit_hazard.sync(
            hazard.id,
            client=contact,
            body=NotesRequest(notes="已完成整改"),
            if_match=f'"{hazard.version}"',
        ),
        HazardView,
    )
    hazard = expect(
        accept_hazard.sync(hazard.id, client=supervisor, body=NotesRequest(notes="验收合格")),
        HazardView,
    )
    assert hazard.state == HazardState.CLOSED, hazard.state

    events = expect(list_hazard_events.sync(hazard.id, client=supervisor), EventPage)
    actions = [event.action for event in events.items]
    assert actions[0] == "report" and actions[-1] == "accept", actions
    assert "evidence_added" in actions, actions
    listed = list_attachments.sync(hazard.id, client=supervisor)
    assert [a.id for a in listed.items] == [photo.id], listed
    downloaded = download_attachment.sync_detailed(photo.id, client=supervisor)
    assert downloaded.status_code == 200 and downloaded.content == PNG, downloaded.status_code

    expect(get_overview.sync(client=supervisor), Overview)
    assert expect(get_ageing.sync(client=supervisor), Ageing).open_ >= 0
    rows = expect(get_scorecard.sync(client=contact), Scorecard).rows
    assert [row.enterprise_id for row in rows] == [enterprise.id], rows
    report = expect(get_yearly_report.sync(today.year, client=supervisor), Report)
    assert report.found >= 1 and report.closed >= 1, (report.found, report.closed)
    print(f"hazard {hazard.number} closed; {report.found} found in {today.year}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
