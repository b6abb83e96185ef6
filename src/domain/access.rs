//! Who may do what: the roles, the one table of capabilities each role
//! holds (PRODUCT.md §1), and the authenticated caller of a request with
//! the enterprise it is confined to. Every handler and the hazard
//! transition function ask this table; nothing else lists roles.

use uuid::Uuid;

use crate::domain::vocabulary::vocabulary;
use crate::error::AppError;
use crate::messages::Detail;

vocabulary! {
    /// A user's role; it decides their capabilities.
    pub enum Role {
        Admin => "admin",
        Supervisor => "supervisor",
        Expert => "expert",
        Enterprise => "enterprise",
        Viewer => "viewer",
        /// A wall screen's display key, never a user: the dashboard's
        /// aggregate figures and nothing else.
        Display => "display",
    }
}

vocabulary! {
    /// Something a role may be allowed to do.
    pub enum Capability {
        /// Read hazards, their history and extension requests (an
        /// enterprise contact: its own).
        ReadHazards => "read_hazards",
        /// Report hazards and record inspections (an enterprise contact:
        /// its own self-checks only, see `hazard::may_record_source`).
        ReportHazards => "report_hazards",
        /// Plan the rectification and submit it for acceptance.
        RectifyHazards => "rectify_hazards",
        /// Accept or reject the rectification of any general hazard.
        AcceptGeneralHazards => "accept_general_hazards",
        /// Accept or reject the rectification of a general hazard from the
        /// caller's own self-check.
        AcceptOwnSelfCheckHazards => "accept_own_self_check_hazards",
        /// Accept or reject the rectification of a major hazard.
        AcceptMajorHazards => "accept_major_hazards",
        /// Withdraw a hazard.
        VoidHazards => "void_hazards",
        /// Bring a closed hazard back into rectification.
        ReopenHazards => "reopen_hazards",
        /// Ask for a later deadline.
        RequestExtensions => "request_extensions",
        /// Enter records after the fact (补录): date a find or a step more
        /// than the park's tolerance in the past.
        EnterPastRecords => "enter_past_records",
        /// Approve or refuse an extension request.
        DecideExtensions => "decide_extensions",
        /// Read, attach and remove one's own evidence files.
        HandleEvidence => "handle_evidence",
        /// List a major hazard for supervision (挂牌督办) and record the
        /// authority's approval that ends it (摘牌).
        SuperviseListings => "supervise_listings",
        /// Record a listed hazard's assessment and the application to
        /// resume production (an enterprise contact: its own).
        RecordListingSteps => "record_listing_steps",
        /// Remove evidence files others uploaded.
        RemoveAnyEvidence => "remove_any_evidence",
        /// Read inspections.
        ReadInspections => "read_inspections",
        /// Record inspection templates (检查表).
        ManageChecklists => "manage_checklists",
        /// Read the enterprise directory (names, status, grades).
        ReadEnterprises => "read_enterprises",
        /// Read personal data: enterprises' contact addresses.
        ReadContactDetails => "read_contact_details",
        /// Register enterprises and change them.
        ManageEnterprises => "manage_enterprises",
        /// Import hazard ledgers (隐患台账) from spreadsheets.
        ImportLedgers => "import_ledgers",
        /// Record safety-risk assessments (grade enterprises).
        AssessEnterprises => "assess_enterprises",
        /// Read assessments and an enterprise's history (an enterprise
        /// contact: its own).
        ReadAssessments => "read_assessments",
        /// Read the list of enterprises due a visit or reassessment.
        ReadSupervisionDue => "read_supervision_due",
        /// Read the park-wide enterprises-per-grade figures.
        ReadParkFigures => "read_park_figures",
        /// Read the dashboard overview (an enterprise contact: its own).
        ReadStats => "read_stats",
        /// Read the analyses (an enterprise contact: its own).
        ReadAnalytics => "read_analytics",
        /// Read the yearly and quarterly reports.
        ReadReports => "read_reports",
        /// Read the Art. 14 statistical filings (an enterprise contact:
        /// its own).
        ReadFilings => "read_filings",
        /// File the enterprise's Art. 14 statistical analysis.
        FileStatutoryReports => "file_statutory_reports",
        /// Read the escalation outbox.
        ReadOutbox => "read_outbox",
        /// Read one's own account (`/auth/me`); a display key has none.
        ReadOwnAccount => "read_own_account",
        /// Create users and change them.
        ManageUsers => "manage_users",
        /// Issue, list and revoke wall screens' display keys.
        ManageDisplayKeys => "manage_display_keys",
        /// Register webhook endpoints and read their deliveries.
        ManageWebhooks => "manage_webhooks",
        /// Read the risk register, check tasks, their occurrences and
        /// records (an enterprise contact: its own).
        ReadRiskRegister => "read_risk_register",
        /// Keep the risk register: objects, units, events, control
        /// measures, their check tasks and units' pauses (an enterprise
        /// contact: its own).
        ManageRiskRegister => "manage_risk_register",
        /// Record the checks one is on duty for (an enterprise contact:
        /// its own enterprise's; supervisors and admins: any, on behalf).
        RecordChecks => "record_checks",
        /// Load a year's calendar of statutory holidays and make-up
        /// working days.
        ManageCalendar => "manage_calendar",
    }
}

impl Capability {
    /// The phrase that finishes "the ROLE role may not …".
    fn refusal(self) -> &'static str {
        match self {
            Self::ReadHazards => "read hazards",
            Self::ReportHazards => "report hazards or record inspections",
            Self::RectifyHazards => "plan or submit rectifications",
            Self::AcceptGeneralHazards => "accept or reject general hazards",
            Self::AcceptOwnSelfCheckHazards => "accept or reject its own self-check hazards",
            Self::AcceptMajorHazards => "accept or reject major hazards",
            Self::VoidHazards => "void hazards",
            Self::ReopenHazards => "reopen hazards",
            Self::RequestExtensions => "request deadline extensions",
            Self::EnterPastRecords => "enter records after the fact",
            Self::DecideExtensions => "decide deadline extensions",
            Self::HandleEvidence => "read, attach or remove evidence files",
            Self::SuperviseListings => "list hazards for supervision or delist them",
            Self::RecordListingSteps => "record a listed hazard's assessment or resumption",
            Self::RemoveAnyEvidence => "remove evidence files others uploaded",
            Self::ReadInspections => "read inspections",
            Self::ManageChecklists => "record inspection templates",
            Self::ReadEnterprises => "read enterprises",
            Self::ReadContactDetails => "read contact details",
            Self::ManageEnterprises => "register or change enterprises",
            Self::ImportLedgers => "import ledgers",
            Self::AssessEnterprises => "record assessments",
            Self::ReadAssessments => "read assessments or enterprise history",
            Self::ReadSupervisionDue => "read the supervision due list",
            Self::ReadParkFigures => "read park-wide figures",
            Self::ReadStats => "read the dashboard figures",
            Self::ReadAnalytics => "read the analyses",
            Self::ReadReports => "read the park's reports",
            Self::ReadFilings => "read the statutory filings",
            Self::FileStatutoryReports => "file an enterprise's statutory analysis",
            Self::ReadOutbox => "read the outbox",
            Self::ReadOwnAccount => "read an account: a display key has none",
            Self::ManageUsers => "manage users",
            Self::ManageDisplayKeys => "manage display keys",
            Self::ManageWebhooks => "manage webhooks",
            Self::ManageCalendar => "load the park's calendar",
            Self::ReadRiskRegister => "read the risk register or check records",
            Self::ManageRiskRegister => "keep the risk register or its check tasks",
            Self::RecordChecks => "record checks",
        }
    }

    /// The same in Chinese: what finishes "该角色无权…" (the glossary's,
    /// `web/terms.json`, `capabilities`).
    fn refusal_zh(self) -> &'static str {
        crate::domain::terms::name("capabilities", self.as_str())
    }
}

/// The roles that hold each capability: the one place that says so.
fn holders(capability: Capability) -> &'static [Role] {
    use Capability as C;
    use Role::{Admin, Display, Enterprise, Expert, Supervisor, Viewer};
    match capability {
        C::ReadHazards
        | C::ReportHazards
        | C::RectifyHazards
        | C::HandleEvidence
        | C::ReadInspections
        | C::ReadContactDetails
        | C::ReadRiskRegister
        | C::ManageRiskRegister
        | C::RecordChecks => &[Admin, Supervisor, Expert, Enterprise],
        C::AcceptGeneralHazards | C::EnterPastRecords | C::ManageChecklists => {
            &[Admin, Supervisor, Expert]
        }
        C::AcceptOwnSelfCheckHazards => &[Enterprise],
        C::AcceptMajorHazards
        | C::VoidHazards
        | C::ReopenHazards
        | C::DecideExtensions
        | C::RemoveAnyEvidence
        | C::ManageEnterprises
        | C::ImportLedgers
        | C::AssessEnterprises => &[Admin, Supervisor],
        C::RequestExtensions | C::FileStatutoryReports => &[Enterprise],
        C::ReadFilings => &[Admin, Supervisor, Enterprise, Viewer],
        C::SuperviseListings => &[Admin, Supervisor],
        C::RecordListingSteps => &[Supervisor, Expert, Enterprise],
        C::ReadEnterprises | C::ReadAnalytics => &[Admin, Supervisor, Expert, Enterprise, Viewer],
        C::ReadStats => &[Admin, Supervisor, Expert, Enterprise, Viewer, Display],
        C::ReadAssessments => &[Admin, Supervisor, Enterprise],
        C::ReadSupervisionDue => &[Admin, Supervisor, Expert],
        C::ReadParkFigures => &[Admin, Supervisor, Expert, Viewer, Display],
        C::ReadReports => &[Admin, Supervisor, Viewer],
        C::ReadOutbox
        | C::ManageUsers
        | C::ManageDisplayKeys
        | C::ManageWebhooks
        | C::ManageCalendar => &[Admin],
        C::ReadOwnAccount => &[Admin, Supervisor, Expert, Enterprise, Viewer],
    }
}

impl Role {
    /// Whether this role holds `capability`.
    pub fn may(self, capability: Capability) -> bool {
        holders(capability).contains(&self)
    }

    /// The role's name on the park's screens (the glossary's,
    /// `web/terms.json`, `roles`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("roles", self.as_str())
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
    /// Set exactly when `role` is `Enterprise`.
    pub enterprise_id: Option<Uuid>,
}

impl Caller {
    /// Whether the caller's role holds `capability`.
    pub fn may(&self, capability: Capability) -> bool {
        self.role.may(capability)
    }

    /// Refuses with `403` unless the caller's role holds `capability`.
    pub fn require(&self, capability: Capability) -> Result<(), AppError> {
        if self.may(capability) {
            Ok(())
        } else {
            Err(AppError::forbidden(
                Detail::RoleMayNot
                    .with("role", self.role.as_str())
                    .with("role_zh", self.role.label_zh())
                    .with("capability", capability.refusal())
                    .with("capability_zh", capability.refusal_zh()),
            ))
        }
    }

    /// The enterprise an enterprise contact is confined to; `None` for the
    /// park's own roles, who see every enterprise.
    pub fn scope(&self) -> Option<Uuid> {
        self.enterprise_id
    }

    /// The enterprise figures are cut to: a contact's own whatever it asks
    /// (another's is `404`: it does not exist for them), else what was
    /// asked, if anything.
    pub fn figures_scope(&self, asked: Option<Uuid>) -> Result<Option<Uuid>, AppError> {
        match (self.enterprise_id, asked) {
            (Some(own), Some(asked)) if own != asked => Err(AppError::NotFound("enterprise")),
            (Some(own), _) => Ok(Some(own)),
            (None, asked) => Ok(asked),
        }
    }

    /// Whether the caller may see data of `enterprise_id` at all. Callers who
    /// may not get `404`, never `403`: another enterprise's data does not
    /// exist for them.
    pub fn can_see_enterprise(&self, enterprise_id: Uuid) -> bool {
        self.enterprise_id.is_none_or(|own| own == enterprise_id)
    }
}

/// The role × capability matrix as a Markdown table, for `docs/ROLES.md` and
/// for comparing with PRODUCT.md §1.
pub fn capability_matrix() -> String {
    let mut out = String::from("| capability |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for capability in Capability::ALL {
        out.push_str(&format!("| `{capability}` |"));
        for role in Role::ALL {
            out.push_str(if role.may(capability) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability as C;

    /// PRODUCT.md §1, capability by capability, written out apart from the
    /// table above so that a change to either shows here.
    #[test]
    fn the_table_says_what_product_md_says() {
        // admin: everything, except the enterprise's own side of the
        // lifecycle (asking for more time; closing its own self-checks,
        // which an admin's general sign-off covers anyway) and the listing
        // steps API.md gives the enterprise, experts and supervisors.
        let admin: Vec<Capability> = Capability::ALL
            .into_iter()
            .filter(|c| {
                !matches!(
                    c,
                    C::RequestExtensions
                        | C::AcceptOwnSelfCheckHazards
                        | C::RecordListingSteps
                        | C::FileStatutoryReports
                )
            })
            .collect();
        let product: &[(Role, &[Capability])] = &[
            (Role::Admin, &admin),
            // supervisor: everything an expert may, plus major sign-off,
            // voiding, extensions, grading and ledger imports (#15: the
            // supervisor or admin); not users or the outbox.
            (
                Role::Supervisor,
                &[
                    C::ReadHazards,
                    C::ReportHazards,
                    C::RectifyHazards,
                    C::AcceptGeneralHazards,
                    C::EnterPastRecords,
                    C::AcceptMajorHazards,
                    C::VoidHazards,
                    C::ReopenHazards,
                    C::DecideExtensions,
                    C::HandleEvidence,
                    C::SuperviseListings,
                    C::RecordListingSteps,
                    C::RemoveAnyEvidence,
                    C::ReadInspections,
                    C::ManageChecklists,
                    C::ReadEnterprises,
                    C::ReadContactDetails,
                    C::ManageEnterprises,
                    C::ImportLedgers,
                    C::AssessEnterprises,
                    C::ReadAssessments,
                    C::ReadSupervisionDue,
                    C::ReadParkFigures,
                    C::ReadStats,
                    C::ReadAnalytics,
                    C::ReadOwnAccount,
                    C::ReadReports,
                    C::ReadFilings,
                    C::ReadRiskRegister,
                    C::ManageRiskRegister,
                    C::RecordChecks,
                ],
            ),
            // expert: inspections and hazards anywhere, general sign-off.
            (
                Role::Expert,
                &[
                    C::ReadHazards,
                    C::ReportHazards,
                    C::RectifyHazards,
                    C::AcceptGeneralHazards,
                    C::EnterPastRecords,
                    C::HandleEvidence,
                    C::RecordListingSteps,
                    C::ReadInspections,
                    C::ManageChecklists,
                    C::ReadEnterprises,
                    C::ReadContactDetails,
                    C::ReadSupervisionDue,
                    C::ReadParkFigures,
                    C::ReadStats,
                    C::ReadAnalytics,
                    C::ReadOwnAccount,
                    C::ReadRiskRegister,
                    C::ManageRiskRegister,
                    C::RecordChecks,
                ],
            ),
            // enterprise: its own data; self-checks, closing its own general
            // ones, plans, evidence, extension requests.
            (
                Role::Enterprise,
                &[
                    C::ReadHazards,
                    C::ReportHazards,
                    C::RectifyHazards,
                    C::AcceptOwnSelfCheckHazards,
                    C::RequestExtensions,
                    C::HandleEvidence,
                    C::RecordListingSteps,
                    C::ReadInspections,
                    C::ReadEnterprises,
                    C::ReadContactDetails,
                    C::ReadAssessments,
                    C::ReadStats,
                    C::ReadAnalytics,
                    C::ReadOwnAccount,
                    C::ReadFilings,
                    C::FileStatutoryReports,
                    C::ReadRiskRegister,
                    C::ManageRiskRegister,
                    C::RecordChecks,
                ],
            ),
            // viewer: stats, reports and the directory without personal
            // data; nothing else.
            (
                Role::Viewer,
                &[
                    C::ReadEnterprises,
                    C::ReadParkFigures,
                    C::ReadStats,
                    C::ReadAnalytics,
                    C::ReadOwnAccount,
                    C::ReadReports,
                    C::ReadFilings,
                ],
            ),
            // display: a wall screen's key; the dashboard's figures only.
            (Role::Display, &[C::ReadParkFigures, C::ReadStats]),
        ];
        for (role, allowed) in product {
            for capability in Capability::ALL {
                assert_eq!(
                    role.may(capability),
                    allowed.contains(&capability),
                    "{role} × {capability}"
                );
            }
        }
    }

    #[test]
    fn only_supervision_decides_and_only_enterprises_ask() {
        for role in Role::ALL {
            let supervision = matches!(role, Role::Admin | Role::Supervisor);
            assert_eq!(role.may(C::DecideExtensions), supervision);
            assert_eq!(role.may(C::AcceptMajorHazards), supervision);
            assert_eq!(role.may(C::RequestExtensions), role == Role::Enterprise);
        }
    }

    #[test]
    fn the_matrix_has_a_row_per_capability() {
        let matrix = capability_matrix();
        assert_eq!(matrix.lines().count(), Capability::ALL.len() + 2);
        assert!(matrix.contains("| `manage_users` | ✓ | | | | |"));
    }
}
