//! What an enterprise is in the park: its operating status.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseStatus {
    /// 在产
    Producing,
    /// 试生产
    Trial,
    /// 在建
    Construction,
    /// 关停
    Closed,
}

impl EnterpriseStatus {
    pub const ALL: [EnterpriseStatus; 4] = [
        EnterpriseStatus::Producing,
        EnterpriseStatus::Trial,
        EnterpriseStatus::Construction,
        EnterpriseStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnterpriseStatus::Producing => "producing",
            EnterpriseStatus::Trial => "trial",
            EnterpriseStatus::Construction => "construction",
            EnterpriseStatus::Closed => "closed",
        }
    }
}

impl FromStr for EnterpriseStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EnterpriseStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown enterprise status {s:?}"))
    }
}

impl fmt::Display for EnterpriseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
