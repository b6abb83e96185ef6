"""Drives one hazard through its life with a client generated from the
served /openapi.json by openapi-python-client, as a park integrator would:
accounts created through the API, a hazard reported, planned, evidenced,
submitted and accepted, its events read, its photo downloaded, and the
yearly report fetched. Then the second round's parts: a checklist run whose
failed item becomes a major hazard, its dossier and 挂牌督办 to 摘牌, the
filings, the change feed, the ledger export imported back and a wall
screen's display key. Any missing argument, any response the generated
models cannot read, or any unexpected status fails the run.

Usage: python3 drive_hazard.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
(the generated package `ht_client` must be importable).
"""

import base64
import datetime
from zoneinfo import ZoneInfo
import io
import sys
import uuid

from ht_client import AuthenticatedClient, Client
from ht_client.api.analytics import get_ageing, get_scorecard
from ht_client.api.auth import get_me, issue_token
from ht_client.api.changes import list_changes
from ht_client.api.checklists import (
    get_checklist_results,
    list_checklists,
    record_checklist_results,
)
from ht_client.api.display_keys import create_display_key, revoke_display_key
from ht_client.api.enterprises import create_enterprise
from ht_client.api.evidence import download_attachment, list_attachments, upload_attachment
from ht_client.api.filings import list_filings
from ht_client.api.hazards import (
    accept_hazard,
    create_hazard,
    delist_hazard,
    export_hazards,
    get_hazard,
    get_hazard_listing,
    list_hazard_events,
    list_hazard_for_supervision,
    plan_hazard,
    record_hazard_dossier,
    record_listing_assessment,
    record_listing_resumption,
    submit_hazard,
)
from ht_client.api.imports import create_import, get_import, get_import_template
from ht_client.api.inspections import create_inspection
from ht_client.api.reference import get_vocabularies
from ht_client.api.stats import get_overview, get_yearly_report
from ht_client.api.users import create_user
from ht_client.models import (
    Ageing,
    ImportForm,
    ImportReport,
    AssessmentInput,
    AssessorKind,
    AuthorityLevel,
    ChangePage,
    ChecklistPage,
    CreateDisplayKey,
    CreateInspection,
    DelistingInput,
    DisplayKeyView,
    DossierInput,
    FilingPage,
    InspectionResultsView,
    InspectionView,
    IssuedDisplayKey,
    ListingInput,
    ListingView,
    RecordResults,
    ResumptionInput,
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


def park_today() -> datetime.date:
    """Today in the park's time zone (the service's default, Asia/Shanghai):
    the day the service dates steps by, which differs from the machine's
    UTC day for eight hours of every day."""
    return datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()


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
    today = park_today()
    body = CreateHazard.from_dict(
        {
            "enterprise_id": str(enterprise.id),
            "source": CheckSource.RESIDENT_EXPERT.value,
            "title": "储罐区可燃气体报警器失效",
            "description": "2号储罐区东侧可燃气体检测报警器无显示",
            "location": "2号储罐区",
            "category": vocabularies.categories[0].code,
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
    second_round(base, admin, expert, supervisor, contact, enterprise, vocabularies)


def second_round(base, admin, expert, supervisor, contact, enterprise, vocabularies) -> None:
    today = park_today()
    inspection = expect(
        create_inspection.sync(
            client=expert,
            body=CreateInspection.from_dict(
                {
                    "source": CheckSource.RESIDENT_EXPERT.value,
                    "enterprise_id": str(enterprise.id),
                    "inspected_on": today.isoformat(),
                    "inspectors": ["张工"],
                }
            ),
        ),
        InspectionView,
    )
    templates = expect(list_checklists.sync(client=expert), ChecklistPage)
    built_in = templates.items[0]
    assert built_in.built_in and len(built_in.items) == 20, built_in.name
    failed = built_in.items[11]
    results = RecordResults.from_dict(
        {
            "checklist_id": str(built_in.id),
            "results": [
                {"item_id": str(built_in.items[0].id), "outcome": "pass"},
                {
                    "item_id": str(failed.id),
                    "outcome": "fail",
                    "note": "甲类车间照明非防爆型",
                    "hazard": {
                        "location": "甲类车间",
                        "category": vocabularies.categories[0].code,
                        "deadline": (today + datetime.timedelta(days=30)).isoformat(),
                    },
                },
            ],
        }
    )
    ran = expect(
        record_checklist_results.sync(inspection.id, client=expert, body=results),
        InspectionResultsView,
    )
    assert ran.checked == 2 and ran.total == 20, (ran.checked, ran.total)
    read = expect(get_checklist_results.sync(inspection.id, client=contact), InspectionResultsView)
    major_id = [r.hazard_id for r in read.results if r.outcome.value == "fail"][0]
    major = expect(get_hazard.sync(major_id, client=contact), HazardView)
    assert major.level == HazardLevel.MAJOR and major.major_basis_code == 12, major.level

    expect(
        list_hazard_for_supervision.sync(
            major.id,
            client=supervisor,
            body=ListingInput(
                authority_level=AuthorityLevel.CITY,
                authority_name="市应急管理局",
                document_number="应急督〔2026〕1号",
                listed_on=today,
                due_on=today + datetime.timedelta(days=60),
                responsible_leader="王总",
            ),
        ),
        HazardView,
    )
    expect(
        record_hazard_dossier.sync(
            major.id,
            client=contact,
            body=DossierInput.from_dict(
                {
                    "state_and_cause": "照明灯具选型错误",
                    "danger_and_difficulty": "可燃气体泄漏时可能引爆;更换难度低",
                    "production_stop": {"scope": "partial", "from": today.isoformat()},
                }
            ),
        ),
        HazardView,
    )
    expect(
        plan_hazard.sync(
            major.id,
            client=contact,
            body=PlanRequest(
                measures="更换为防爆灯具",
                responsible_person="张工",
                funds=8000.0,
                deadline=today + datetime.timedelta(days=20),
                contingency_plan="停用该区域照明,使用防爆手电",
            ),
        ),
        HazardView,
    )
    report_file = expect(
        upload_attachment.sync(
            major.id,
            client=contact,
            body=UploadForm(
                file=File(payload=io.BytesIO(PNG), file_name="assessment.png", mime_type="image/png"),
                phase=EvidencePhase.AFTER,
                caption="治理效果评估报告",
            ),
        ),
        AttachmentView,
    )
    expect(
        record_listing_assessment.sync(
            major.id,
            client=contact,
            body=AssessmentInput(
                assessor="某安全评价有限公司",
                assessor_kind=AssessorKind.ASSESSMENT_BODY,
                conclusion="隐患已消除",
                report_attachment_id=report_file.id,
                assessed_on=today,
            ),
        ),
        HazardView,
    )
    expect(
        record_listing_resumption.sync(
            major.id, client=contact, body=ResumptionInput(applicant="王总", applied_on=today)
        ),
        HazardView,
    )
    listing = expect(get_hazard_listing.sync(major.id, client=supervisor), ListingView)
    assert listing.steps_missing == ["delisting"], listing.steps_missing
    expect(
        delist_hazard.sync(
            major.id,
            client=supervisor,
            body=DelistingInput(document_number="应急督〔2026〕2号", delisted_on=today),
        ),
        HazardView,
    )
    expect(submit_hazard.sync(major.id, client=contact, body=NotesRequest()), HazardView)
    closed = expect(accept_hazard.sync(major.id, client=supervisor, body=NotesRequest()), HazardView)
    assert closed.state == HazardState.CLOSED, closed.state

    filings = expect(list_filings.sync(client=contact, year=today.year), FilingPage)
    assert all(f.enterprise_id == enterprise.id for f in filings.items), filings.items
    changes = expect(list_changes.sync(client=contact, limit=500), ChangePage)
    assert any(c.hazard_id == major.id for c in changes.items), len(changes.items)
    ledger = export_hazards.sync_detailed(client=contact)
    assert ledger.status_code == 200 and ledger.content[:2] == b"PK", ledger.status_code

    # The ledger goes back in: a dry run, then the import, which finds
    # every row there already.
    template = get_import_template.sync_detailed(client=supervisor)
    assert template.status_code == 200 and template.content[:2] == b"PK", template.status_code
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    checked = expect(
        create_import.sync(
            client=supervisor,
            body=ImportForm(file=File(payload=io.BytesIO(ledger.content), file_name="台账.xlsx", mime_type=xlsx)),
            dry_run=True,
        ),
        ImportReport,
    )
    assert checked.dry_run and checked.errors == 0, checked
    imported = expect(
        create_import.sync(
            client=supervisor,
            body=ImportForm(file=File(payload=io.BytesIO(ledger.content), file_name="台账.xlsx", mime_type=xlsx)),
        ),
        ImportReport,
    )
    assert imported.created == 0 and imported.unchanged == imported.rows > 0, imported
    expect(get_import.sync(imported.id, client=admin), ImportReport)

    issued = expect(
        create_display_key.sync(
            client=admin,
            body=CreateDisplayKey(
                name="中控室大屏",
                expires_at=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30),
            ),
        ),
        IssuedDisplayKey,
    )
    screen = AuthenticatedClient(base_url=base, token=issued.key, raise_on_unexpected_status=True)
    expect(get_overview.sync(client=screen), Overview)
    expect(revoke_display_key.sync(issued.id, client=admin), DisplayKeyView)
    print(f"major hazard {closed.number} delisted and closed; {len(filings.items)} filings listed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
