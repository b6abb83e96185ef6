//! The rules for evidence files (photos and documents before and after
//! rectification): the two phases, when a hazard's evidence may still
//! change, who may remove a file, when submission needs an `after` file,
//! and what a file *is*, judged from its bytes rather than from what the
//! client claims. No I/O.

use super::access::{Capability, Role};
use super::hazard::{HazardLevel, HazardState};
use super::vocabulary::vocabulary;

vocabulary! {
    /// When the evidence was taken: as found, or after rectification.
    pub enum EvidencePhase {
        /// The hazard as found (隐患照片).
        Before => "before",
        /// The rectification done (整改后照片、验收资料).
        After => "after",
    }
}

/// A closed or voided hazard's record is final: its evidence is what the
/// acceptor (or the supervisor who voided it) saw.
pub fn evidence_may_change(state: HazardState) -> bool {
    !matches!(state, HazardState::Closed | HazardState::Voided)
}

/// Whether submitting for acceptance needs at least one `after` file: always
/// for a major hazard, for a general one when the park's policy says so.
pub fn after_evidence_required(level: HazardLevel, required_for_general: bool) -> bool {
    match level {
        HazardLevel::Major => true,
        HazardLevel::General => required_for_general,
    }
}

/// A file may be removed by whoever uploaded it, or by a role that may
/// remove anyone's.
pub fn may_remove(role: Role, is_uploader: bool) -> bool {
    is_uploader || role.may(Capability::RemoveAnyEvidence)
}

/// How many leading bytes [`detect_media_type`] wants to see; fewer only
/// when the file is shorter.
pub const SNIFF_BYTES: usize = 8192;

/// The media type of a file, judged from its first bytes. HEIC photos (what
/// phones take) are reported as `image/heic`: the signature matched is the
/// HEVC-coded flavour of HEIF.
pub fn detect_media_type(head: &[u8]) -> Option<&'static str> {
    infer::get(head).map(|kind| match kind.mime_type() {
        "image/heif" => "image/heic",
        other => other,
    })
}

/// The longest file name kept, in characters.
const MAX_FILE_NAME_CHARS: usize = 200;

/// The client's file name, made safe to store and to send back in a
/// `Content-Disposition`: no folders, no control characters, bounded.
pub fn clean_file_name(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "evidence".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The file name a download is offered under: the stored name, its
/// extension made the one of the type detected from the bytes (a JPEG named
/// `scan.html` is saved as `scan.jpg`).
pub fn download_name(file_name: &str, media_type: &str) -> String {
    let extensions: &[&str] = match media_type {
        "image/jpeg" => &["jpg", "jpeg"],
        "image/png" => &["png"],
        "image/webp" => &["webp"],
        "image/heic" => &["heic", "heif"],
        "application/pdf" => &["pdf"],
        _ => return file_name.to_owned(),
    };
    let (stem, extension) = match file_name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
        _ => (file_name, None),
    };
    if extension.is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x))) {
        return file_name.to_owned();
    }
    format!("{stem}.{}", extensions[0])
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_download_is_named_for_its_detected_type() {
        assert_eq!(download_name("scan.html", "image/jpeg"), "scan.jpg");
        assert_eq!(download_name("照片.JPEG", "image/jpeg"), "照片.JPEG");
        assert_eq!(download_name("report", "application/pdf"), "report.pdf");
        assert_eq!(download_name(".svg", "image/png"), ".svg.png");
        assert_eq!(download_name("a.pdf.exe", "application/pdf"), "a.pdf.pdf");
        assert_eq!(download_name("x.bin", "text/plain"), "x.bin");
    }

    use super::*;

    #[test]
    fn closed_and_voided_hazards_keep_their_evidence() {
        for state in HazardState::ALL {
            let expected = !matches!(state, HazardState::Closed | HazardState::Voided);
            assert_eq!(evidence_may_change(state), expected, "{state}");
        }
    }

    #[test]
    fn major_hazards_always_need_after_evidence() {
        assert!(after_evidence_required(HazardLevel::Major, false));
        assert!(after_evidence_required(HazardLevel::Major, true));
        assert!(!after_evidence_required(HazardLevel::General, false));
        assert!(after_evidence_required(HazardLevel::General, true));
    }

    #[test]
    fn uploaders_and_supervision_may_remove() {
        for role in Role::ALL {
            assert!(may_remove(role, true));
        }
        assert!(may_remove(Role::Supervisor, false));
        assert!(may_remove(Role::Admin, false));
        assert!(!may_remove(Role::Expert, false));
        assert!(!may_remove(Role::Enterprise, false));
    }

    #[test]
    fn media_types_come_from_the_bytes() {
        assert_eq!(
            detect_media_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(
            detect_media_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(detect_media_type(b"%PDF-1.7\n"), Some("application/pdf"));
        let mut heic = vec![0, 0, 0, 0x18];
        heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        assert_eq!(detect_media_type(&heic), Some("image/heic"));
        assert_eq!(detect_media_type(b"<html><script>"), Some("text/html"));
        assert_eq!(detect_media_type(b"just some words"), None);
        assert_eq!(detect_media_type(b""), None);
    }

    #[test]
    fn file_names_lose_folders_and_control_characters() {
        assert_eq!(clean_file_name(Some("C:\\photos\\罐区.jpg")), "罐区.jpg");
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_file_name(Some("a\"b\r\n.pdf")), "ab.pdf");
        assert_eq!(clean_file_name(Some("..")), "evidence");
        assert_eq!(clean_file_name(None), "evidence");
        assert_eq!(clean_file_name(Some(&"x".repeat(500))).chars().count(), 200);
    }
}
