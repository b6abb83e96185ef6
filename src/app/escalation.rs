//! Escalations by email (PRODUCT.md §5): the configured policy, the
//! messages it puts in the outbox (in the transaction of the change that
//! causes them, or from the periodic scanner for deadline rules), and the
//! workers that claim and send them with retries.

use crate::domain::risk::RiskLevel;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::Serialize;
use tokio::sync::watch;
use uuid::Uuid;

use crate::app::filings;
use crate::app::major_sources::SourceDueWhat;
use crate::app::workers::Workers;
use crate::clock::Clock;
use crate::db::hazards::Hazard;
use crate::db::hazards::{awaiting_rule, DeadlineWindow};
use crate::db::outbox::{self, OutboxMessage, Outcome};
use crate::db::Db;
use crate::db::{enterprises, hazards, regulation, users, Id};
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::Role;
use crate::domain::delivery::DeliveryState;
use crate::domain::hazard::HazardLevel;
use crate::domain::webhook::EventType;
use crate::email::{Mail, Mailer, SendError};
use crate::error::AppError;
use crate::settings::{EscalationRule, EscalationSettings, RuleTrigger, Settings};

const TEXT_TEMPLATE: &str = include_str!("../../templates/escalation.txt");
const HTML_TEMPLATE: &str = include_str!("../../templates/escalation.html");

/// A message a scanner queues that is about no one hazard: plain text,
/// with the HTML part its preformatted copy; dead at once when the rule
/// finds nobody to send it to.
fn scanned_message(
    dedup_key: String,
    rule: &EscalationRule,
    deadline: Option<NaiveDate>,
    recipients: &[String],
    subject: String,
    text: String,
    now: NaiveDateTime,
) -> Result<OutboxMessage, AppError> {
    Ok(OutboxMessage {
        id: Uuid::now_v7().into(),
        dedup_key,
        hazard_id: None,
        rule: rule.code.clone(),
        deadline,
        recipients: serde_json::to_string(recipients).map_err(|e| AppError::Internal(e.into()))?,
        subject,
        body_html: format!("<pre>{}</pre>", crate::domain::text::escape_html(&text)),
        body_text: text,
        state: if recipients.is_empty() {
            DeliveryState::Dead
        } else {
            DeliveryState::Pending
        },
        attempts: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_until: None,
        last_error: recipients
            .is_empty()
            .then(|| "no recipients: check the rule and the enterprise's contacts".to_owned()),
        created_at: now,
        sent_at: None,
        updated_at: now,
    })
}

/// The policy, ready to apply.
pub struct Escalation {
    settings: EscalationSettings,
    link: String,
    time_zone: chrono_tz::Tz,
    /// How long after its end an occurrence may still be recorded on time.
    check_tolerance: chrono::TimeDelta,
    /// When major hazard sources' assessments and drills fall due.
    major_sources: crate::settings::MajorSourceSettings,
    templates: minijinja::Environment<'static>,
}

impl Escalation {
    pub fn new(settings: &Settings) -> anyhow::Result<Escalation> {
        let mut templates = minijinja::Environment::new();
        templates.add_template("escalation.txt", TEXT_TEMPLATE)?;
        // The .html name turns on HTML escaping of every value.
        templates.add_template("escalation.html", HTML_TEMPLATE)?;
        Ok(Escalation {
            settings: settings.escalation.clone(),
            link: settings.escalation.hazard_link.replace(
                "{base}",
                settings.server.public_base_url.trim_end_matches('/'),
            ),
            time_zone: settings.park.time_zone()?,
            check_tolerance: chrono::TimeDelta::minutes(i64::from(
                settings.records.backdate_tolerance_minutes,
            )),
            major_sources: settings.major_sources.clone(),
            templates,
        })
    }

    pub fn settings(&self) -> &EscalationSettings {
        &self.settings
    }

    fn local_date(&self, utc: NaiveDateTime) -> NaiveDate {
        self.time_zone.from_utc_datetime(&utc).date_naive()
    }

    /// A hazard was just reported: rules that fire at once (a major hazard
    /// reaches the supervisors) are queued in the same transaction.
    pub fn on_reported(
        &self,
        conn: &mut DbConnection,
        hazard: &Hazard,
        now: NaiveDateTime,
    ) -> Result<(), AppError> {
        if hazard.level != HazardLevel::Major {
            return Ok(());
        }
        for rule in self
            .settings
            .rules
            .iter()
            .filter(|r| r.when == RuleTrigger::MajorReported)
        {
            self.queue(
                conn,
                hazard,
                rule,
                format!("{}:{}", hazard.id, rule.code),
                None,
                DeliveryState::Pending,
                None,
                now,
            )?;
        }
        Ok(())
    }

    /// A hazard changed: closing or voiding cancels what still waits for it;
    /// a moved deadline cancels the messages of the old one (the scanner
    /// then fires the rules again for the new deadline).
    pub fn on_changed(
        &self,
        conn: &mut DbConnection,
        hazard: &Hazard,
        previous_deadline: NaiveDate,
        now: NaiveDateTime,
    ) -> Result<(), AppError> {
        if !hazard.state.is_open() {
            outbox::cancel_pending(
                conn,
                hazard.id,
                None,
                &format!("the hazard was {}", hazard.state),
                now,
            )?;
        } else if hazard.deadline != previous_deadline {
            outbox::cancel_pending(
                conn,
                hazard.id,
                Some(hazard.deadline),
                "the deadline was moved",
                now,
            )?;
        }
        Ok(())
    }

    /// Queues the deadline rules whose time has come, once per (hazard,
    /// rule, deadline). Returns how many messages were queued.
    pub fn scan(&self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, AppError> {
        let today = self.local_date(now);
        let mut timed: Vec<&EscalationRule> = self
            .settings
            .rules
            .iter()
            .filter(|r| matches!(r.when, RuleTrigger::BeforeDeadline | RuleTrigger::Overdue))
            .collect();
        // Highest overdue level first, so a lower level whose moment passed
        // while the service was down is recorded as superseded, not sent late.
        timed.sort_by_key(|r| std::cmp::Reverse((r.when == RuleTrigger::Overdue, r.days)));
        let mut queued = 0;
        for rule in &timed {
            let due = write_transaction(conn, |conn| {
                let days = chrono::Days::new(u64::from(rule.days));
                let window = match rule.when {
                    // From `days` before the deadline day until it ends.
                    RuleTrigger::BeforeDeadline => DeadlineWindow::Between(today, today + days),
                    // From `days` after the deadline day ended.
                    RuleTrigger::Overdue => DeadlineWindow::Before(today - days),
                    _ => return Ok(0),
                };
                let candidates = awaiting_rule(conn, &rule.code, window, 1000)?;
                let mut count = 0;
                for hazard in candidates {
                    let key = format!("{}:{}:{}", hazard.id, rule.code, hazard.deadline);
                    let superseded_by = self.higher_overdue_rule(rule, hazard.deadline, today);
                    let (state, note) = match superseded_by {
                        Some(higher) => (
                            DeliveryState::Cancelled,
                            Some(format!("superseded by {}", higher.code)),
                        ),
                        None => (DeliveryState::Pending, None),
                    };
                    if self.queue(
                        conn,
                        &hazard,
                        rule,
                        key,
                        Some(hazard.deadline),
                        state,
                        note,
                        now,
                    )? && state == DeliveryState::Pending
                    {
                        count += 1;
                        if rule.when == RuleTrigger::Overdue {
                            let mut data = crate::app::webhooks::hazard_data(&hazard);
                            data["days_overdue"] =
                                serde_json::json!((today - hazard.deadline).num_days());
                            data["rule"] = serde_json::json!(rule.code);
                            crate::app::webhooks::publish(
                                conn,
                                EventType::HazardOverdue,
                                data,
                                now,
                            )?;
                        }
                    }
                }
                Ok(count)
            })?;
            queued += due;
        }
        Ok(queued
            + self.scan_listings(conn, now)?
            + self.scan_filings(conn, now)?
            + self.scan_checks(conn, now)?
            + self.scan_sources(conn, now)?)
    }

    /// Queues the major hazard source rules: before a source's safety
    /// assessment or a drill of its emergency plans falls due and once its
    /// day has passed with none recorded, once per (source, item, due
    /// day, rule). Recording the assessment or drill moves the due day,
    /// so the next round is a new message.
    fn scan_sources(&self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, AppError> {
        let today = self.local_date(now);
        let rules: Vec<&EscalationRule> = self
            .settings
            .rules
            .iter()
            .filter(|r| {
                matches!(
                    r.when,
                    RuleTrigger::BeforeSourceDue | RuleTrigger::SourceOverdue
                )
            })
            .collect();
        if rules.is_empty() {
            return Ok(0);
        }
        write_transaction(conn, |conn| {
            let mut count = 0;
            let due = crate::app::major_sources::due(conn, today, &self.major_sources)?;
            let mut looked_up: std::collections::HashMap<(Id, &str), (Vec<String>, String)> =
                std::collections::HashMap::new();
            for item in due {
                let advice = match item.what {
                    SourceDueWhat::Persons(_) => continue,
                    SourceDueWhat::Drill(..) => {
                        "请按应急预案组织演练，演练后在系统中登记演练日期。"
                    }
                    SourceDueWhat::Assessment(_) => {
                        "请组织安全评估（或委托有资质的机构），完成后在系统中上传评估报告。"
                    }
                };
                let due_on = item.item.due_on;
                for rule in &rules {
                    let days = chrono::Days::new(u64::from(rule.days));
                    let fires = match rule.when {
                        RuleTrigger::BeforeSourceDue => today <= due_on && due_on <= today + days,
                        _ => due_on + days < today,
                    };
                    if !fires {
                        continue;
                    }
                    // Overdue items fire on every scan (the outbox keeps one
                    // message each): look each enterprise up once per scan.
                    let key = (item.enterprise_id, rule.code.as_str());
                    let (recipients, enterprise) = match looked_up.entry(key) {
                        std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                        std::collections::hash_map::Entry::Vacant(slot) => {
                            let recipients = self.recipients(conn, item.enterprise_id, rule)?;
                            let (name, _) =
                                enterprises::name_and_contacts(conn, item.enterprise_id)?;
                            slot.insert((recipients, name))
                        }
                    };
                    let what = item.describe_zh();
                    let state = if due_on < today {
                        format!("已逾期 {} 天", (today - due_on).num_days())
                    } else {
                        format!("距到期还有 {} 天", (due_on - today).num_days())
                    };
                    let text = format!(
                        "{}\n\n企业：{enterprise}\n重大危险源：{}（{}）\n事项：{what}\n到期日：{due_on}（{state}）\n\n{advice}\n\n此邮件由园区隐患排查治理系统自动发送（规则：{}），请勿直接回复。\n",
                        rule.title, item.name, item.code, rule.code
                    );
                    let message = scanned_message(
                        format!("source:{}:{}", item.key(), rule.code),
                        rule,
                        Some(due_on),
                        recipients,
                        format!("【{}】{enterprise} {} {what}", rule.title, item.name),
                        text,
                        now,
                    )?;
                    if outbox::enqueue(conn, &message)? && !recipients.is_empty() {
                        count += 1;
                    }
                }
            }
            Ok(count)
        })
    }

    /// Queues the filing rules: once per (enterprise, period, rule) for an
    /// Art. 14 filing not filed `days` after its due day.
    fn scan_filings(&self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, AppError> {
        let today = self.local_date(now);
        let mut queued = 0;
        for rule in &self.settings.rules {
            if rule.when != RuleTrigger::FilingOverdue {
                continue;
            }
            queued += write_transaction(conn, |conn| {
                let mut count = 0;
                for late in filings::late(conn, today, rule.days)? {
                    let recipients = self.recipients(conn, late.enterprise_id.into(), rule)?;
                    let period = match late.period.quarter {
                        Some(q) => format!("{}年第{q}季度", late.period.year),
                        None => format!("{}年度", late.period.year),
                    };
                    let text = format!(
                        "{}\n\n企业:{}\n期间:{period}\n报送期限:{}(《安全生产事故隐患排查治理暂行规定》第十四条)\n\n请企业主要负责人审核本期隐患排查治理统计分析并报送。\n\n此邮件由园区隐患排查治理系统自动发送(规则:{}),请勿直接回复。\n",
                        rule.title, late.enterprise_name, late.due_on, rule.code
                    );
                    let message = scanned_message(
                        format!("filing:{}:{}", late.id, rule.code),
                        rule,
                        Some(late.due_on),
                        &recipients,
                        format!("【{}】{} {period}", rule.title, late.enterprise_name),
                        text,
                        now,
                    )?;
                    if outbox::enqueue(conn, &message)? && !recipients.is_empty() {
                        count += 1;
                    }
                }
                Ok(count)
            })?;
        }
        Ok(queued)
    }

    /// Queues the missed-check rules: once per (occurrence, rule) for an
    /// occurrence of a check task on a 重大 or 较大 risk unit left
    /// unrecorded `days` after its on-time limit; occurrences whose limit
    /// passed within the two days before are looked at, so a scanner that
    /// was down for less than that misses none.
    fn scan_checks(&self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, AppError> {
        let mut queued = 0;
        for rule in &self.settings.rules {
            let (levels, duty): (&[RiskLevel], bool) = match rule.when {
                RuleTrigger::CheckMissed => (&[RiskLevel::Major, RiskLevel::Serious], false),
                RuleTrigger::DutyMissed | RuleTrigger::DutyMissedTwice => (&RiskLevel::ALL, true),
                _ => continue,
            };
            let calendar = crate::app::calendar::current(conn)?;
            queued += write_transaction(conn, |conn| {
                let missed = crate::app::occurrences::missed_on_units(
                    conn,
                    self.time_zone,
                    calendar,
                    self.check_tolerance,
                    (
                        now,
                        chrono::TimeDelta::days(i64::from(rule.days)),
                        chrono::TimeDelta::days(2),
                    ),
                    levels,
                    |task| task.kind.duty_of().is_some() == duty,
                )?;
                let mut count = 0;
                for miss in missed {
                    if rule.when == RuleTrigger::DutyMissedTwice
                        && !missed_before(conn, &miss, calendar)?
                    {
                        continue;
                    }
                    let enterprise_id = miss.task.enterprise_id;
                    let mut recipients = self.recipients(conn, enterprise_id, rule)?;
                    if rule.recipients.iter().any(|r| r == "assignee") {
                        if let Some(user) = miss.task.assignee_user_id {
                            if let Some(person) = users::find(conn, user)?.filter(|u| u.active) {
                                recipients.push(person.email);
                                recipients.sort();
                                recipients.dedup();
                            }
                        }
                    }
                    let (enterprise, _) = enterprises::name_and_contacts(conn, enterprise_id)?;
                    let window = format!(
                        "{} 至 {}",
                        miss.occurrence.start.format("%Y-%m-%d %H:%M"),
                        miss.occurrence.end.format("%Y-%m-%d %H:%M")
                    );
                    let text = format!(
                        "{}\n\n企业：{enterprise}\n风险分析单元：{}（{}）\n排查任务：{}\n应排查时段：{window}\n状态：漏查，未在时限内记录\n\n请落实排查并补充记录；漏查的原因请一并说明。\n\n此邮件由园区隐患排查治理系统自动发送（规则：{}），请勿直接回复。\n",
                        rule.title,
                        miss.unit_name,
                        miss.level.label_zh(),
                        miss.task.name,
                        rule.code
                    );
                    let message = scanned_message(
                        format!(
                            "check:{}:{}:{}",
                            miss.task.id,
                            miss.occurrence.id.index(),
                            rule.code
                        ),
                        rule,
                        Some(miss.occurrence.end.date()),
                        &recipients,
                        format!("【{}】{enterprise} {}", rule.title, miss.task.name),
                        text,
                        now,
                    )?;
                    if outbox::enqueue(conn, &message)? && !recipients.is_empty() {
                        count += 1;
                    }
                }
                Ok(count)
            })?;
        }
        Ok(queued)
    }

    /// Queues the 挂牌督办 rules: before a listed hazard's 督办期限 and once
    /// it has passed, once per (hazard, rule), while the hazard is still
    /// listed and open.
    fn scan_listings(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> Result<usize, AppError> {
        let today = self.local_date(now);
        let mut queued = 0;
        for rule in &self.settings.rules {
            let days = chrono::Days::new(u64::from(rule.days));
            let (from, to) = match rule.when {
                RuleTrigger::BeforeListingDue => (Some(today), Some(today + days)),
                RuleTrigger::ListingOverdue => (None, Some(today - days - chrono::Days::new(1))),
                _ => continue,
            };
            queued += write_transaction(conn, |conn| {
                let due = regulation::listings_awaiting_rule(conn, &rule.code, from, to, 1000)?;
                let mut count = 0;
                for (hazard_id, due_on) in due {
                    let Some(hazard) = hazards::find(conn, hazard_id)? else {
                        continue;
                    };
                    let key = format!("{}:{}:{}", hazard.id, rule.code, due_on);
                    let note = None;
                    if self.queue(
                        conn,
                        &hazard,
                        rule,
                        key,
                        None,
                        DeliveryState::Pending,
                        note,
                        now,
                    )? {
                        count += 1;
                    }
                }
                Ok(count)
            })?;
        }
        Ok(queued)
    }

    fn higher_overdue_rule(
        &self,
        rule: &EscalationRule,
        deadline: NaiveDate,
        today: NaiveDate,
    ) -> Option<&EscalationRule> {
        if rule.when != RuleTrigger::Overdue {
            return None;
        }
        self.settings
            .rules
            .iter()
            .filter(|r| r.when == RuleTrigger::Overdue && r.days > rule.days)
            .find(|r| deadline < today - chrono::Days::new(u64::from(r.days)))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one message, described field by field"
    )]
    fn queue(
        &self,
        conn: &mut DbConnection,
        hazard: &Hazard,
        rule: &EscalationRule,
        dedup_key: String,
        deadline: Option<NaiveDate>,
        state: DeliveryState,
        note: Option<String>,
        now: NaiveDateTime,
    ) -> Result<bool, AppError> {
        let recipients = self.recipients(conn, hazard.enterprise_id, rule)?;
        let content = self.render(conn, hazard, rule, now)?;
        let (state, note) = if recipients.is_empty() && state == DeliveryState::Pending {
            (
                DeliveryState::Dead,
                Some("no recipients: check the rule and the enterprise's contacts".to_owned()),
            )
        } else {
            (state, note)
        };
        outbox::enqueue(
            conn,
            &OutboxMessage {
                id: Uuid::now_v7().into(),
                dedup_key,
                hazard_id: Some(hazard.id),
                rule: rule.code.clone(),
                deadline,
                recipients: serde_json::to_string(&recipients)
                    .map_err(|e| AppError::Internal(e.into()))?,
                subject: content.subject,
                body_text: content.text,
                body_html: content.html,
                state,
                attempts: 0,
                next_attempt_at: now,
                lease_owner: None,
                lease_until: None,
                last_error: note,
                created_at: now,
                sent_at: None,
                updated_at: now,
            },
        )
    }

    fn recipients(
        &self,
        conn: &mut DbConnection,
        enterprise_id: Id,
        rule: &EscalationRule,
    ) -> Result<Vec<String>, AppError> {
        let mut to = BTreeSet::new();
        for recipient in &rule.recipients {
            if recipient == "enterprise_contacts" {
                let (_, listed) = enterprises::name_and_contacts(conn, enterprise_id)?;
                to.extend(serde_json::from_str::<Vec<String>>(&listed).unwrap_or_default());
                to.extend(users::active_contact_emails(conn, enterprise_id)?);
            } else if let Some(role) = recipient.strip_prefix("role:") {
                // Roles in rules are checked when the configuration loads.
                if let Ok(role) = role.parse::<Role>() {
                    to.extend(users::active_emails_with_role(conn, role)?);
                }
            } else if let Some(list) = recipient.strip_prefix("list:") {
                to.extend(self.settings.lists.get(list).cloned().unwrap_or_default());
            } else {
                to.insert(recipient.clone());
            }
        }
        Ok(to.into_iter().collect())
    }

    fn render(
        &self,
        conn: &mut DbConnection,
        hazard: &Hazard,
        rule: &EscalationRule,
        now: NaiveDateTime,
    ) -> Result<Content, AppError> {
        let (enterprise, _) = enterprises::name_and_contacts(conn, hazard.enterprise_id)?;
        let today = self.local_date(now);
        let days_overdue = (today - hazard.deadline).num_days().max(0);
        let context = MailContext {
            title: rule.title.clone(),
            rule: rule.code.clone(),
            number: hazard.number.clone(),
            enterprise: enterprise.clone(),
            hazard_title: hazard.title.clone(),
            level: if hazard.level == HazardLevel::Major {
                "重大隐患"
            } else {
                "一般隐患"
            },
            level_code: hazard.level.as_str().to_owned(),
            major_basis_code: hazard.major_basis_code,
            location: hazard.location.clone(),
            deadline: hazard.deadline.to_string(),
            days_overdue,
            days_left: (days_overdue == 0).then(|| (hazard.deadline - today).num_days()),
            state: hazard.state.label_zh(),
            who_must_act: match &hazard.plan_responsible_person {
                Some(person) => format!("{enterprise}(责任人:{person})"),
                None => enterprise.clone(),
            },
            link: self.link.replace("{id}", hazard.id.as_str()),
        };
        let render = |name: &str| {
            self.templates
                .get_template(name)
                .and_then(|t| t.render(&context))
                .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {name}: {e}")))
        };
        Ok(Content {
            subject: format!(
                "【{}】{} {} {}",
                rule.title, hazard.number, enterprise, hazard.title
            ),
            text: render("escalation.txt")?,
            html: render("escalation.html")?,
        })
    }
}

struct Content {
    subject: String,
    text: String,
    html: String,
}

#[derive(Serialize)]
struct MailContext {
    title: String,
    rule: String,
    number: String,
    enterprise: String,
    hazard_title: String,
    level: &'static str,
    level_code: String,
    major_basis_code: Option<i32>,
    location: String,
    deadline: String,
    days_overdue: i64,
    days_left: Option<i64>,
    state: &'static str,
    who_must_act: String,
    link: String,
}

/// What one run of the sender did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

/// What the outbox workers need: where the messages are, the policy, the
/// delivery and the time they act on.
#[derive(Clone)]
pub struct Outbox {
    pub db: Db,
    pub escalation: Arc<Escalation>,
    pub mailer: Arc<Mailer>,
    pub clock: Arc<dyn Clock>,
}

/// Claims due messages for `worker` and sends them.
pub async fn deliver_due(
    state: &Outbox,
    worker: &str,
    now: NaiveDateTime,
) -> Result<Delivery, AppError> {
    let (_never_stops, mut stopping) = watch::channel(false);
    deliver(state, worker, now, &mut stopping).await
}

/// [`deliver_due`] that stops early once `stopping` turns true: a send in
/// progress is abandoned (it is not an attempt; the message stays due), and
/// what is left keeps its lease until the caller releases it.
async fn deliver(
    state: &Outbox,
    worker: &str,
    now: NaiveDateTime,
    stopping: &mut watch::Receiver<bool>,
) -> Result<Delivery, AppError> {
    let settings = state.escalation.settings().clone();
    let lease_until =
        now + chrono::Duration::seconds(i64::try_from(settings.lease_secs).unwrap_or(i64::MAX / 4));
    let owner = worker.to_owned();
    let claimed = state
        .db
        .write(move |conn| {
            outbox::claim(
                conn,
                &owner,
                now,
                lease_until,
                i64::from(settings.batch_size),
            )
        })
        .await?;
    let mut delivery = Delivery::default();
    for message in claimed {
        if *stopping.borrow() {
            break;
        }
        let mail = Mail {
            message_id: format!("<outbox-{}@hazard-tracker>", message.id),
            to: serde_json::from_str(&message.recipients).unwrap_or_default(),
            subject: message.subject.clone(),
            text: message.body_text.clone(),
            html: message.body_html.clone(),
        };
        let sent = tokio::select! {
            sent = state.mailer.send(&mail) => sent,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let outcome = match sent {
            Ok(()) => {
                delivery.sent += 1;
                Outcome::Sent
            }
            Err(SendError::Permanent(error)) => {
                delivery.dead += 1;
                Outcome::Dead { error }
            }
            Err(SendError::Transient(error))
                if message.attempts + 1
                    >= i32::try_from(settings.max_attempts).unwrap_or(i32::MAX) =>
            {
                delivery.dead += 1;
                Outcome::Dead {
                    error: format!("gave up after {} attempts: {error}", message.attempts + 1),
                }
            }
            Err(SendError::Transient(error)) => {
                delivery.failed += 1;
                Outcome::Failed {
                    error,
                    retry_at: now + backoff(&settings, message.attempts),
                }
            }
        };
        if let Outcome::Failed { error, .. } | Outcome::Dead { error } = &outcome {
            tracing::warn!(outbox_id = %message.id, rule = %message.rule, error = %error, "mail not delivered");
        }
        let (owner, id) = (worker.to_owned(), message.id);
        let recorded = state
            .db
            .write(move |conn| outbox::record_attempt(conn, id, &owner, &outcome, now))
            .await?;
        if !recorded {
            tracing::warn!(outbox_id = %message.id, "lease lost before the attempt was recorded");
        }
    }
    Ok(delivery)
}

/// The wait before the next attempt: the interval, doubled per failed
/// attempt, capped.
fn backoff(settings: &EscalationSettings, failed_attempts: i32) -> chrono::Duration {
    let exponent = u32::try_from(failed_attempts).unwrap_or(0).min(20);
    let secs = settings
        .interval_secs
        .saturating_mul(1u64 << exponent)
        .min(settings.max_backoff_secs);
    chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 4))
}

/// A name for this process's sender, unique across instances.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned());
    format!("{host}-{}-{}", std::process::id(), Uuid::new_v4().simple())
}

/// Runs the scanner and the sender every `interval_secs` until stopped; the
/// caller then releases this worker's leases.
pub fn spawn_workers(state: Outbox, worker: String) -> Workers {
    let interval = Duration::from_secs(state.escalation.settings().interval_secs.max(1));
    let (stop, mut stopping) = watch::channel(false);
    let task = actix_web::rt::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            let now = state.clock.now();
            let escalation = state.escalation.clone();
            match state.db.write(move |conn| escalation.scan(conn, now)).await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "escalations queued"),
                Err(error) => tracing::warn!(%error, "escalation scan failed"),
            }
            let now = state.clock.now();
            match deliver(&state, &worker, now, &mut stopping).await {
                Ok(d) if d == Delivery::default() => {}
                Ok(d) => tracing::info!(
                    sent = d.sent,
                    failed = d.failed,
                    dead = d.dead,
                    "outbox delivery"
                ),
                Err(error) => tracing::warn!(%error, "outbox delivery failed"),
            }
        }
    });
    Workers::new(stop, task)
}

/// Whether the occurrence before a missed one of the same task was missed
/// too: it exists, was not paused and was never recorded.
fn missed_before(
    conn: &mut DbConnection,
    miss: &crate::app::occurrences::MissedCheck,
    calendar: &crate::domain::calendar::WorkCalendar,
) -> Result<bool, AppError> {
    let Some(previous) = miss.occurrence.id.index().checked_sub(1) else {
        return Ok(false);
    };
    let schedule = crate::app::occurrences::schedule_of(&miss.task)?;
    let pauses = crate::db::risk::pauses_of(conn, &[miss.task.unit_id])?;
    let pauses = crate::app::occurrences::pause_set(&pauses.iter().collect::<Vec<_>>())?;
    let id = crate::domain::schedule::OccurrenceId(previous);
    let Some(occurrence) = schedule.occurrence(id, calendar, &pauses) else {
        return Ok(false);
    };
    Ok(!occurrence.paused
        && crate::db::risk::record_of(conn, miss.task.id, i64::from(id))?.is_none())
}
