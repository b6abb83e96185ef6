//! The 重大事故隐患报告 of a major hazard, as an authority reads it: the
//! report contents of 《安全生产事故隐患排查治理暂行规定》 Art. 14 and the
//! six parts of an Art. 15 remediation plan, filled from the hazard's
//! record (its 五到位 plan maps into the six parts), with its supervised
//! listing, evidence and history. A part the record does not hold is shown
//! as not recorded, never made up. Rendered as Markdown or as a
//! print-ready HTML page.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::db::hazards::Hazard;
use crate::db::regulation::{self, DossierRow, ListingRow};
use crate::db::{attachments, enterprises, hazards, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::access::Role;
use crate::domain::criteria::major_hazard_criteria;
use crate::domain::evidence::EvidencePhase;
use crate::domain::hazard::listing::StopScope;
use crate::domain::hazard::HazardLevel;
use crate::domain::park::Park;
use crate::error::AppError;
use crate::messages::Detail;

const HTML_TEMPLATE: &str = include_str!("../../templates/dossier.html");

/// What a part shows when the record does not hold it.
const NOT_RECORDED: &str = "(未记录)";

/// One numbered part of Art. 14 or Art. 15.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub heading: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub on: NaiveDate,
    pub action: String,
    pub role: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceLine {
    pub phase: &'static str,
    pub file_name: String,
    pub caption: String,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Dossier {
    pub number: String,
    pub title: String,
    pub enterprise: String,
    pub location: String,
    pub found_on: NaiveDate,
    pub deadline: NaiveDate,
    pub state: &'static str,
    pub source: &'static str,
    pub basis: String,
    pub listing: Option<String>,
    /// Art. 16: how much production stopped, and when.
    pub production_stop: String,
    pub report: Vec<Part>,
    pub plan: Vec<Part>,
    /// Art. 18: the 挂牌督办 steps, when listed.
    pub listing_steps: Vec<Part>,
    pub evidence: Vec<EvidenceLine>,
    pub history: Vec<Step>,
}

fn recorded(text: Option<String>) -> String {
    text.filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| NOT_RECORDED.to_owned())
}

/// Reads the dossier of a hazard the caller may see; a general hazard has
/// none (`409`).
pub fn load(
    conn: &mut DbConnection,
    caller: &Caller,
    park: &Park,
    id: Uuid,
) -> Result<Dossier, AppError> {
    let hazard = super::hazards::visible_hazard(conn, caller, id)?;
    if hazard.level != HazardLevel::Major {
        return Err(AppError::conflict(Detail::DossierOnlyMajor));
    }
    let (enterprise, _) = enterprises::name_and_contacts(conn, hazard.enterprise_id)?;
    let basis = hazard
        .major_basis_code
        .and_then(|code| {
            major_hazard_criteria()
                .items
                .iter()
                .find(|c| c.code == code)
                .map(|c| format!("安监总管三〔2017〕121号 第{}项:{}", c.code, c.text))
        })
        .unwrap_or_else(|| NOT_RECORDED.to_owned());
    let record = regulation::dossier(conn, hazard.id)?;
    let listing = regulation::listing(conn, hazard.id)?;
    let report = report_parts(&hazard, record.as_ref(), &basis);
    let plan = plan_parts(&hazard, record.as_ref(), &enterprise);
    let production_stop = record.as_ref().map_or_else(
        || NOT_RECORDED.to_owned(),
        |r| match (r.stop_scope, r.stop_from, r.stop_until) {
            (StopScope::None, _, _) => StopScope::None.label_zh().to_owned(),
            (scope, from, until) => format!(
                "{}:{} 至 {}",
                scope.label_zh(),
                from.map_or_else(|| NOT_RECORDED.to_owned(), |d| d.to_string()),
                until.map_or_else(|| "今".to_owned(), |d| d.to_string())
            ),
        },
    );
    let listing_steps = listing.as_ref().map(listing_parts).unwrap_or_default();
    let evidence = evidence_lines(conn, hazard.id)?;
    let history = hazards::events(conn, hazard.id, None, 1000)?
        .into_iter()
        .map(|e| Step {
            on: park.local_date(e.occurred_at),
            action: action_label(&e.action).to_owned(),
            role: role_label(e.actor_role).to_owned(),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    Ok(Dossier {
        number: hazard.number,
        title: hazard.title,
        enterprise,
        location: hazard.location,
        found_on: park.local_date(hazard.found_at),
        deadline: hazard.deadline,
        state: hazard.state.label_zh(),
        source: hazard.source.label_zh(),
        basis,
        listing: listing.map(|l| {
            let level = l.authority_level.map_or("", |level| level.label_zh());
            let number = l
                .document_number
                .map(|n| format!(",{n}"))
                .unwrap_or_default();
            format!(
                "{level}{}({} 挂牌督办{number})",
                l.authority_name, l.listed_on
            )
        }),
        production_stop,
        report,
        plan,
        listing_steps,
        evidence,
        history,
    })
}

/// Art. 14: what a major hazard's report holds; before the report is
/// recorded, the first two parts show what the hazard's own record says.
fn report_parts(hazard: &Hazard, record: Option<&DossierRow>, basis: &str) -> Vec<Part> {
    vec![
        Part {
            heading: "(一)隐患的现状及其产生原因",
            text: record.map_or_else(
                || format!("{}。{}", hazard.title, hazard.description),
                |r| r.state_and_cause.clone(),
            ),
        },
        Part {
            heading: "(二)隐患的危害程度和整改难易程度分析",
            text: record.map_or_else(
                || format!("重大事故隐患。判定依据:{basis}"),
                |r| format!("{}(判定依据:{basis})", r.danger_and_difficulty),
            ),
        },
        Part {
            heading: "(三)隐患的治理方案",
            text: recorded(hazard.plan_measures.clone()),
        },
    ]
}

/// Art. 15: the six parts of a remediation plan, from the 五到位 plan and
/// the parts the dossier adds.
fn plan_parts(hazard: &Hazard, record: Option<&DossierRow>, enterprise: &str) -> Vec<Part> {
    let extra = |part: fn(&DossierRow) -> &Option<String>| record.and_then(|r| part(r).clone());
    let materials = extra(|r| &r.materials);
    let funds = match (hazard.plan_funds_fen, materials) {
        (Some(fen), Some(materials)) => Some(format!("{:.2} 元;{materials}", fen as f64 / 100.0)),
        (Some(fen), None) => Some(format!("{:.2} 元", fen as f64 / 100.0)),
        (None, materials) => materials,
    };
    let body = extra(|r| &r.responsible_body).unwrap_or_else(|| enterprise.to_owned());
    let responsible = hazard
        .plan_responsible_person
        .clone()
        .map(|person| format!("{body};责任人:{person}"));
    let requirements = extra(|r| &r.requirements)
        .map(|text| format!(";{text}"))
        .unwrap_or_default();
    vec![
        Part {
            heading: "(一)治理的目标和任务",
            text: extra(|r| &r.goals_and_tasks).unwrap_or_else(|| {
                format!(
                    "消除重大事故隐患「{}」,于 {} 前完成整改",
                    hazard.title, hazard.deadline
                )
            }),
        },
        Part {
            heading: "(二)采取的方法和措施",
            text: recorded(hazard.plan_measures.clone()),
        },
        Part {
            heading: "(三)经费和物资的落实",
            text: recorded(funds),
        },
        Part {
            heading: "(四)负责治理的机构和人员",
            text: recorded(responsible),
        },
        Part {
            heading: "(五)治理的时限和要求",
            text: format!("{} 前完成{requirements}", hazard.deadline),
        },
        Part {
            heading: "(六)安全措施和应急预案",
            text: recorded(hazard.plan_contingency.clone()),
        },
    ]
}

/// Art. 18: the 挂牌督办 steps recorded so far.
fn listing_parts(l: &ListingRow) -> Vec<Part> {
    let or_missing = |text: Option<String>| text.unwrap_or_else(|| NOT_RECORDED.to_owned());
    vec![
        Part {
            heading: "挂牌督办",
            text: format!(
                "{} {};督办期限 {};责任领导 {}",
                l.authority_name,
                or_missing(l.document_number.clone()),
                or_missing(l.due_on.map(|d| d.to_string())),
                or_missing(l.responsible_leader.clone()),
            ),
        },
        Part {
            heading: "治理效果评估",
            text: or_missing(l.assessed_on.map(|on| {
                let kind = l.assessor_kind.map_or("", |k| k.label_zh());
                format!(
                    "{on} {}({kind}):{}",
                    l.assessor.clone().unwrap_or_default(),
                    l.assessment_conclusion.clone().unwrap_or_default()
                )
            })),
        },
        Part {
            heading: "恢复生产申请",
            text: or_missing(l.resumption_applied_on.map(|on| {
                format!(
                    "{on} {}",
                    l.resumption_applicant.clone().unwrap_or_default()
                )
            })),
        },
        Part {
            heading: "审查同意、解除督办(摘牌)",
            text: or_missing(l.delisted_on.map(|on| {
                format!(
                    "{on} {}",
                    l.delisting_document_number.clone().unwrap_or_default()
                )
            })),
        },
    ]
}

/// An event's step as the report names it.
fn action_label(action: &str) -> &str {
    match action {
        "report" => "登记",
        "plan" => "制定整改方案",
        "submit" => "提交验收",
        "accept" => "验收销号",
        "reject" => "验收不通过",
        "void" => "作废",
        "reopen" => "重新整改",
        "extension_requested" => "申请延期",
        "extension_approved" => "同意延期",
        "extension_refused" => "不同意延期",
        "evidence_added" => "上传证据",
        "evidence_removed" => "删除证据",
        "dossier_recorded" => "记录隐患报告",
        "listed" => "挂牌督办",
        "listing_assessed" => "治理效果评估",
        "resumption_applied" => "申请恢复生产",
        "delisted" => "摘牌",
        other => other,
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "管理员",
        Role::Supervisor => "园区监管",
        Role::Expert => "驻园专家",
        Role::Enterprise => "企业",
        Role::Viewer => "查看",
        Role::Display => "大屏",
    }
}

fn evidence_lines(conn: &mut DbConnection, hazard_id: Id) -> Result<Vec<EvidenceLine>, AppError> {
    Ok(attachments::list(conn, hazard_id, None, None, 500)?
        .into_iter()
        .map(|a| EvidenceLine {
            phase: match a.phase {
                EvidencePhase::Before => "整改前",
                EvidencePhase::After => "整改后",
            },
            file_name: a.file_name,
            caption: a.caption.unwrap_or_default(),
        })
        .collect())
}

/// The report as Markdown.
pub fn markdown(d: &Dossier) -> String {
    let mut out = format!(
        "# 重大事故隐患报告\n\n\
         | 项目 | 内容 |\n|---|---|\n\
         | 隐患编号 | {} |\n| 隐患名称 | {} |\n| 企业 | {} |\n| 部位 | {} |\n\
         | 排查方式 | {} |\n| 发现日期 | {} |\n| 整改期限 | {} |\n| 状态 | {} |\n\
         | 判定依据 | {} |\n| 挂牌督办 | {} |\n| 停产停业 | {} |\n",
        cell(&d.number),
        cell(&d.title),
        cell(&d.enterprise),
        cell(&d.location),
        d.source,
        d.found_on,
        d.deadline,
        d.state,
        cell(&d.basis),
        cell(d.listing.as_deref().unwrap_or("否")),
        cell(&d.production_stop),
    );
    out.push_str("\n## 一、隐患报告(《安全生产事故隐患排查治理暂行规定》第十四条)\n\n");
    for part in &d.report {
        out.push_str(&format!("**{}**\n\n{}\n\n", part.heading, text(&part.text)));
    }
    out.push_str("## 二、治理方案(第十五条)\n\n");
    for part in &d.plan {
        out.push_str(&format!("**{}**\n\n{}\n\n", part.heading, text(&part.text)));
    }
    if !d.listing_steps.is_empty() {
        out.push_str("## 挂牌督办(第十八条)\n\n");
        for part in &d.listing_steps {
            out.push_str(&format!("**{}**\n\n{}\n\n", part.heading, text(&part.text)));
        }
    }
    out.push_str("## 三、证据材料\n\n");
    if d.evidence.is_empty() {
        out.push_str("(无)\n\n");
    }
    for e in &d.evidence {
        out.push_str(&format!(
            "- {}:{} {}\n",
            e.phase,
            cell(&e.file_name),
            cell(&e.caption)
        ));
    }
    out.push_str("\n## 四、处理经过\n\n| 日期 | 步骤 | 角色 | 说明 |\n|---|---|---|---|\n");
    for s in &d.history {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s.on,
            s.action,
            s.role,
            cell(&s.note)
        ));
    }
    out
}

/// User text as Markdown shows it: HTML in it is text, not markup (a
/// Markdown renderer passes raw HTML through).
fn text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// User text fit for one Markdown table cell or list line.
fn cell(value: &str) -> String {
    text(value).replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// The `Content-Security-Policy` the HTML page is served with: nothing may
/// load or run, but its own stylesheet (by its hash) applies, so it prints
/// styled.
pub fn html_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine;
        use sha2::Digest;
        let style = HTML_TEMPLATE
            .split_once("<style>")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map_or("", |(style, _)| style);
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'"
        )
    })
}

/// The report as a print-ready HTML page (every value escaped).
pub fn html(d: &Dossier) -> Result<String, AppError> {
    let mut env = minijinja::Environment::new();
    env.add_template("dossier.html", HTML_TEMPLATE)
        .and_then(|()| env.get_template("dossier.html")?.render(d))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering the dossier: {e}")))
}
