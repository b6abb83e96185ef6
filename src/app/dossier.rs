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
use crate::db::{attachments, enterprises, hazards, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::criteria::major_hazard_criteria;
use crate::domain::evidence::EvidencePhase;
use crate::domain::hazard::HazardLevel;
use crate::domain::park::Park;
use crate::error::AppError;

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
    pub report: Vec<Part>,
    pub plan: Vec<Part>,
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
        return Err(AppError::Conflict(
            "only a major hazard has a 重大事故隐患报告".to_owned(),
        ));
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
    let report = report_parts(&hazard, &basis);
    let plan = plan_parts(&hazard, &enterprise);
    let evidence = evidence_lines(conn, hazard.id)?;
    let history = hazards::events(conn, hazard.id, None, 1000)?
        .into_iter()
        .map(|e| Step {
            on: park.local_date(e.occurred_at),
            action: e.action,
            role: e.actor_role.as_str().to_owned(),
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
        listing: hazard
            .listing_ordering_body
            .map(|body| match hazard.listing_listed_on {
                Some(on) => format!("{body}({on} 挂牌督办)"),
                None => format!("{body} 挂牌督办"),
            }),
        report,
        plan,
        evidence,
        history,
    })
}

/// Art. 14: what a major hazard's report holds.
fn report_parts(hazard: &Hazard, basis: &str) -> Vec<Part> {
    vec![
        Part {
            heading: "(一)隐患的现状及其产生原因",
            text: format!("{}。{}", hazard.title, hazard.description),
        },
        Part {
            heading: "(二)隐患的危害程度和整改难易程度分析",
            text: format!("重大事故隐患。判定依据:{basis}"),
        },
        Part {
            heading: "(三)隐患的治理方案",
            text: recorded(hazard.plan_measures.clone()),
        },
    ]
}

/// Art. 15: the six parts of a remediation plan, from the 五到位 plan.
fn plan_parts(hazard: &Hazard, enterprise: &str) -> Vec<Part> {
    let funds = hazard
        .plan_funds_fen
        .map(|fen| format!("{:.2} 元", fen as f64 / 100.0));
    let responsible = hazard
        .plan_responsible_person
        .clone()
        .map(|person| format!("{enterprise};责任人:{person}"));
    vec![
        Part {
            heading: "(一)治理的目标和任务",
            text: format!(
                "消除重大事故隐患「{}」,于 {} 前完成整改",
                hazard.title, hazard.deadline
            ),
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
            text: format!("{} 前完成", hazard.deadline),
        },
        Part {
            heading: "(六)安全措施和应急预案",
            text: recorded(hazard.plan_contingency.clone()),
        },
    ]
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
         | 判定依据 | {} |\n| 挂牌督办 | {} |\n",
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
    );
    out.push_str("\n## 一、隐患报告(《安全生产事故隐患排查治理暂行规定》第十四条)\n\n");
    for part in &d.report {
        out.push_str(&format!("**{}**\n\n{}\n\n", part.heading, part.text));
    }
    out.push_str("## 二、治理方案(第十五条)\n\n");
    for part in &d.plan {
        out.push_str(&format!("**{}**\n\n{}\n\n", part.heading, part.text));
    }
    out.push_str("## 三、证据材料\n\n");
    if d.evidence.is_empty() {
        out.push_str("(无)\n\n");
    }
    for e in &d.evidence {
        out.push_str(&format!("- {}:{} {}\n", e.phase, e.file_name, e.caption));
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

/// Text fit for one Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// The report as a print-ready HTML page (every value escaped).
pub fn html(d: &Dossier) -> Result<String, AppError> {
    let mut env = minijinja::Environment::new();
    env.add_template("dossier.html", HTML_TEMPLATE)
        .and_then(|()| env.get_template("dossier.html")?.render(d))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering the dossier: {e}")))
}
