//! The message catalogue: every text the API sends a person about a refused
//! request, in English and in Chinese, in one table. A field's broken rule
//! is a stable [`Rule`] code with its parameters; the kinds of problem
//! (`401`, `404`, `409`, …) have their Chinese details here too. `{name}`
//! in a text is a parameter, filled in by [`render`].

use std::collections::BTreeMap;

use serde_json::Value;

/// The language a problem document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The `Content-Language` of a document in this language.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language an `Accept-Language` header prefers: Chinese when a
    /// `zh` range (`zh`, `zh-CN`, `zh-Hans`, …) has a higher q-value than
    /// every English one (and than `*`), English otherwise.
    pub fn preferred(accept_language: &str) -> Lang {
        // (q, position of the first range giving it) of each language;
        // `*` stands for English unless English is named.
        let mut zh: Option<(f32, usize)> = None;
        let mut en: Option<(f32, usize)> = None;
        let mut any: Option<(f32, usize)> = None;
        for (position, range) in accept_language.split(',').enumerate() {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            let slot = match tag.split('-').next().unwrap_or("") {
                "zh" => &mut zh,
                "en" => &mut en,
                "*" => &mut any,
                _ => continue,
            };
            if slot.is_none_or(|(best, _)| q > best) {
                *slot = Some((q, position));
            }
        }
        match (zh, en.or(any)) {
            (Some((q, _)), _) if q <= 0.0 => Lang::En,
            (Some(_), None) => Lang::Zh,
            (Some((zq, zp)), Some((eq, ep))) if zq > eq || (zq == eq && zp < ep) => Lang::Zh,
            _ => Lang::En,
        }
    }
}

/// The rule whose English text, with no parameter, is `text`: a message
/// written as plain text elsewhere keeps its code.
pub fn rule_of_text(text: &str) -> Option<Rule> {
    Rule::ALL
        .iter()
        .copied()
        .find(|rule| *rule != Rule::Invalid && rule.text(Lang::En) == text)
        .filter(|rule| !rule.text(Lang::En).contains('{'))
}

/// A message's parameters by name, as sent in a violation's `params`.
pub type Params = BTreeMap<&'static str, Value>;

/// Fills each `{name}` in `text` with its parameter; numbers and texts
/// appear as they are, without quotes. A `{name}` with no parameter stays
/// as written, and a parameter's value is never read for places itself.
pub fn render(text: &str, params: &Params) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| Some((close, params.get(&after[..close])?)));
        match value {
            Some((close, value)) => {
                match value {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A table of texts in both languages, each named by a stable snake_case
/// code clients can match on: `Rule`s of fields and `Detail`s of refusals.
macro_rules! catalogue {
    ($(#[$what:meta])* $name:ident; $( $(#[$doc:meta])* $variant:ident = $code:literal { en: $en:literal, zh: $zh:literal } )*) => {
        $(#[$what])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$doc])* $variant, )*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )*
                }
            }

            /// The text, with `{name}` where a parameter goes.
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(
                        ($name::$variant, Lang::En) => $en,
                        ($name::$variant, Lang::Zh) => $zh,
                    )*
                }
            }
        }
    };
}

catalogue! {
    /// A rule a field's value broke, named by a stable snake_case code
    /// clients can match on.
    Rule;
    /// A rule the catalogue does not name yet: the English text is the
    /// parameter `reason`, sent as it was written.
    Invalid = "invalid" { en: "{reason}", zh: "取值无效" }
    Required = "required" { en: "is required", zh: "必填" }
    Blank = "blank" { en: "must not be blank", zh: "不能为空白" }
    TooLong = "too_long" { en: "must be at most {max} characters", zh: "不能超过{max}个字符" }
    LineBreak = "line_break" { en: "must be one line, without line breaks", zh: "只能写一行，不能换行" }
    NulCharacter = "nul_character" {
        en: "must not contain the NUL character (U+0000)",
        zh: "不能包含空字符"
    }
    DateInFuture = "date_in_future" { en: "must not be in the future", zh: "不能晚于现在" }
    NotADate = "not_a_date" { en: "must be a date YYYY-MM-DD", zh: "应为“年-月-日”格式的日期" }
    NotAString = "not_a_string" { en: "must be a text", zh: "应为文字" }
    NotAnInteger = "not_an_integer" { en: "must be a whole number", zh: "应为整数" }
    NotACount = "not_a_count" {
        en: "must be a whole number from 0",
        zh: "应为不小于0的整数"
    }
    NotANumber = "not_a_number" { en: "must be a number", zh: "应为数字" }
    NotABoolean = "not_a_boolean" { en: "must be true or false", zh: "应为真或假" }
    NotAList = "not_a_list" { en: "must be a list", zh: "应为列表" }
    NotAnObject = "not_an_object" { en: "must be an object of fields", zh: "应为由字段组成的对象" }
    NotAUuid = "not_a_uuid" { en: "must be an identifier (UUID)", zh: "应为标识编号" }
    NotATime = "not_a_time" {
        en: "must be a time with its offset (RFC 3339)",
        zh: "应为带时区的时间"
    }
    NotNull = "not_null" { en: "must not be null", zh: "不能为空值" }
    WrongLength = "wrong_length" {
        en: "has the wrong number of elements",
        zh: "元素个数不符"
    }
    UnknownField = "unknown_field" {
        en: "is not a field of this request",
        zh: "不是此请求的字段"
    }
    NotAllowedValue = "not_allowed_value" {
        en: "is not an allowed value",
        zh: "不是允许的取值"
    }
    BeforePreviousEvent = "before_previous_event" {
        en: "must not be before the previous event ({previous} UTC)",
        zh: "不能早于上一步的时间（协调世界时{previous}）"
    }
    BeforeFound = "before_found" {
        en: "must not be before the day the hazard was found ({found_on})",
        zh: "不能早于发现隐患的日期（{found_on}）"
    }
    BeforeFoundDay = "before_found_day" {
        en: "must not be before the day the hazard was found",
        zh: "不能早于发现隐患的日期"
    }
    DeadlineLaterThanCurrent = "deadline_later_than_current" {
        en: "must not be later than the current deadline {current_deadline}; request an extension instead",
        zh: "不能晚于当前整改期限{current_deadline}；如需延期，请申请延期"
    }
    DeadlineNotLater = "deadline_not_later" {
        en: "must be later than the current deadline {current_deadline}",
        zh: "须晚于当前整改期限{current_deadline}"
    }
    BackdatedTooFar = "backdated_too_far" {
        en: "may be at most {minutes} minutes in the past for the {role} role: records entered after the fact (补录) are the work of the park's experts, supervisors and admins",
        zh: "此角色最多只能补记{minutes}分钟以前的记录；事后补录由园区专家、监管人员和管理员进行"
    }
    MajorPlanIncomplete = "major_plan_incomplete" {
        en: "a major hazard's plan needs all five of 五到位 (措施, 责任人, 资金, 时限, 预案)",
        zh: "重大隐患的整改方案须五到位（措施、责任人、资金、时限、预案）"
    }
    OneOf = "one_of" { en: "must be one of {allowed}", zh: "须为以下之一：{allowed}" }
    MajorBasisRequired = "major_basis_required" {
        en: "a major hazard must cite its basis: an item 1–20 of the national criteria",
        zh: "重大隐患须注明判定依据：国家判定标准第1至20项之一"
    }
    MajorBasisRange = "major_basis_range" {
        en: "must be an item number 1–20 of the national criteria",
        zh: "须为国家判定标准的第1至20项"
    }
    OnlyForMajor = "only_for_major" { en: "is only for major hazards", zh: "仅适用于重大隐患" }
    ListingOnlyForMajor = "listing_only_for_major" {
        en: "only a major hazard is listed for supervision (挂牌督办)",
        zh: "只有重大隐患才能挂牌督办"
    }
    // The risk register and its check tasks (双重预防).
    CodeOnlyForMajorSource = "code_only_for_major_source" {
        en: "only a major hazard source (kind major_hazard_source) has a registered code",
        zh: "只有重大危险源才有备案编号"
    }
    MeasureClass = "measure_class" {
        en: "must be a control measure class of the national classification, by code or as 一级/二级 (see /api/v1/reference/vocabularies)",
        zh: "须为国家管控措施分类中的一类，填写代码或“一级／二级”名称"
    }
    CheckContentRequired = "check_content_required" {
        en: "is required for a measure watched by checks: say what a check looks at",
        zh: "由隐患排查管控的措施必填：写明排查内容"
    }
    LsScale = "ls_scale" { en: "must be 1 to 5 on the risk matrix", zh: "风险矩阵取值须为1至5" }
    LecLikelihood = "lec_likelihood" {
        en: "must be one of 10, 6, 3, 1, 0.5, 0.2, 0.1",
        zh: "须为10、6、3、1、0.5、0.2、0.1之一"
    }
    LecExposure = "lec_exposure" {
        en: "must be one of 10, 6, 3, 2, 1, 0.5",
        zh: "须为10、6、3、2、1、0.5之一"
    }
    LecConsequence = "lec_consequence" {
        en: "must be one of 100, 40, 15, 7, 3, 1",
        zh: "须为100、40、15、7、3、1之一"
    }
    AssigneeRole = "assignee_role" {
        en: "must be enterprise or expert: a task is checked by an enterprise's contacts or the park's resident experts",
        zh: "须为企业联系人或驻园专家：排查任务由企业联系人或驻园专家执行"
    }
    OneAssignee = "one_assignee" {
        en: "give exactly one of assignee_role and assignee_user_id",
        zh: "排查人按角色或按人员指定，二者只填一项"
    }
    AssigneeNotEligible = "assignee_not_eligible" {
        en: "must be an active contact of the measure's enterprise or a resident expert",
        zh: "须为该企业在用的联系人或驻园专家"
    }
    ScheduleEvery = "schedule_every" {
        en: "every must be between 1 and {max}",
        zh: "周期数须在1至{max}之间"
    }
    ScheduleEmptyWindow = "schedule_empty_window" {
        en: "a window must not begin and end at the same time; leave it out for a task around the clock",
        zh: "时段的开始与结束不能相同；全天排查请不填时段"
    }
    ScheduleWindowNeedsHours = "schedule_window_needs_hours" {
        en: "a time-of-day window applies to hourly cycles only",
        zh: "时段只适用于按小时的周期"
    }
    ScheduleWindowNeverReached = "schedule_window_never_reached" {
        en: "no occurrence of this cycle ever starts inside the window",
        zh: "按此周期，没有一次排查落在时段内"
    }
    ScheduleDayRule = "schedule_day_rule" {
        en: "working or non-working days apply to hourly and daily cycles only: a longer cycle spans many days",
        zh: "工作日或非工作日只适用于按小时或按天的周期：更长的周期跨越多日"
    }
    UntilAfterFrom = "until_after_from" { en: "must be after from", zh: "须晚于开始时间" }
    AbnormalNeedsHazard = "abnormal_needs_hazard" {
        en: "is required for an abnormal record: the location, category and deadline of the hazard it becomes",
        zh: "异常记录必填：写明所生成隐患的部位、类别和整改期限"
    }
    NormalHasNoHazard = "normal_has_no_hazard" {
        en: "must be absent for a normal record",
        zh: "正常记录不填此项"
    }
    UnknownRiskObject = "unknown_risk_object" {
        en: "no such risk analysis object",
        zh: "风险分析对象不存在"
    }
    UnknownRiskUnit = "unknown_risk_unit" { en: "no such risk analysis unit", zh: "风险分析单元不存在" }
    UnknownRiskEvent = "unknown_risk_event" { en: "no such safety risk event", zh: "安全风险事件不存在" }
    UnknownMeasure = "unknown_measure" { en: "no such control measure", zh: "管控措施不存在" }
    MeasureMonitored = "measure_monitored" {
        en: "the measure is watched by automated monitoring, not by checks; a check task needs a measure watched by checks",
        zh: "该措施由自动化监控管控，不由隐患排查管控；排查任务须针对由排查管控的措施"
    }
    NotAnOccurrence = "not_an_occurrence" {
        en: "is not an occurrence of the task's schedule (outside its window or its days)",
        zh: "不是该任务排查周期中的一次（不在时段内或不在排查日）"
    }
    BeforeOccurrence = "before_occurrence" {
        en: "is before the occurrence starts ({start}); a check counts from its occurrence's start",
        zh: "早于该次排查的开始时间（{start}）；排查须在开始之后进行"
    }
    RangeTooLong = "range_too_long" {
        en: "must be after from, and at most {max_days} days later",
        zh: "须晚于开始日期，且相隔不超过{max_days}天"
    }
    PeriodTooLong = "period_too_long" {
        en: "must be on or after from, and the period at most {max_days} days",
        zh: "不能早于开始日期，且期间不超过{max_days}天"
    }
    NotExposureFactor = "not_exposure_factor" {
        en: "must be one of the exposure factors {allowed} of GB 18218-2018",
        zh: "须为国家标准规定的暴露人员校正系数之一：{allowed}"
    }
    MustBePositive = "must_be_positive" {
        en: "must be above zero and at most {max}",
        zh: "须大于零且不超过{max}"
    }
    NotMajorSource = "not_major_source" {
        en: "the sum of q/Q over the chemicals is {s}, below 1: not a major hazard source",
        zh: "各危险化学品实际存在量与其临界量之比的总和为{s}，小于一，不构成重大危险源"
    }
    NotPhone = "not_phone" {
        en: "must be a phone number: digits, with +, -, spaces or brackets",
        zh: "须为电话号码：数字，可含加号、连字符、空格或括号"
    }
    SourceCodeTaken = "source_code_taken" {
        en: "the enterprise has a major hazard source registered under this code already",
        zh: "该企业已有以此编号备案的重大危险源"
    }
    RegistryOnly = "registry_only" {
        en: "is set by the major hazard source registry, not sent",
        zh: "由重大危险源登记生成，不能直接提交"
    }
    NotSourceContact = "not_source_contact" {
        en: "must be an active contact of the source's enterprise",
        zh: "须为该重大危险源所属企业的在用联系人账号"
    }
    NotDutyItem = "not_duty_item" {
        en: "must list the failed duty items by number, each one of the task's ({allowed})",
        zh: "须按编号列出未落实的职责条目，且每项须为该任务的条目之一（{allowed}）"
    }
    OnlyForDutyTask = "only_for_duty_task" {
        en: "is only for a duty check of a major hazard source's responsible person",
        zh: "仅适用于重大危险源包保责任人的履职排查"
    }
    NotMonth = "not_month" { en: "must be a month like 2026-12", zh: "须为年月，如2026-12" }
    TooLate = "too_late" { en: "is too late", zh: "太晚" }
    UnknownEnterprise = "unknown_enterprise" { en: "no such enterprise", zh: "企业不存在" }
    UnknownInspection = "unknown_inspection" { en: "no such inspection", zh: "检查不存在" }
    UnknownChecklist = "unknown_checklist" { en: "no such checklist", zh: "检查表不存在" }
    NotFuture = "not_future" { en: "must be in the future", zh: "须晚于现在" }
    OutOfRange = "out_of_range" {
        en: "must be between {min} and {max}",
        zh: "须在{min}至{max}之间"
    }
    TooLongText = "too_long_text" { en: "is too long", zh: "过长" }
    Empty = "empty" { en: "is empty", zh: "为空" }
    NotCursor = "not_cursor" {
        en: "is not a cursor this service issued",
        zh: "不是本服务给出的游标"
    }
    NotRfc3339 = "not_rfc3339_time" {
        en: "must be an RFC 3339 time",
        zh: "须为带时区的日期时间"
    }
    NotUtf8 = "not_utf8" { en: "must be UTF-8 text", zh: "须为统一码文本" }
    TooShort = "too_short" { en: "must be at least {min} characters", zh: "不能少于{min}个字符" }
    TooManyBytes = "too_many_bytes" { en: "must be at most {max} bytes", zh: "不能超过{max}字节" }
    RequiredForEnterpriseRole = "required_for_enterprise_role" {
        en: "is required for the enterprise role",
        zh: "企业角色必填"
    }
    OnlyForEnterpriseRole = "only_for_enterprise_role" {
        en: "is only for the enterprise role",
        zh: "仅适用于企业角色"
    }
    CheckingEnterpriseRequired = "checking_enterprise_required" {
        en: "is required for a mutual check: name the enterprise that did the checking",
        zh: "企业互查必填：请写明做检查的企业"
    }
    CheckingEnterpriseSame = "checking_enterprise_same" {
        en: "must differ from enterprise_id: a mutual check is done by another enterprise",
        zh: "须与被查企业不同：企业互查由另一家企业进行"
    }
    OnlyForMutualCheck = "only_for_mutual_check" {
        en: "is only for mutual checks",
        zh: "仅适用于企业互查"
    }
    InspectionOfAnotherEnterprise = "inspection_of_another_enterprise" {
        en: "the inspection checked another enterprise",
        zh: "该检查针对的是另一家企业"
    }
    BeforeListed = "before_listed" {
        en: "must not be before the day listed",
        zh: "不能早于挂牌日期"
    }
    NotChecklistItem = "not_checklist_item" {
        en: "is not an item of this checklist",
        zh: "不是此检查表的检查项"
    }
    UnknownItem = "unknown_item" { en: "unknown item", zh: "检查项不存在" }
    AppearsTwice = "appears_twice" { en: "appears twice", zh: "重复出现" }
    OnlyForFailedItem = "only_for_failed_item" {
        en: "is only for a failed item",
        zh: "仅适用于不合格的检查项"
    }
    FailedItemNeedsHazard = "failed_item_needs_hazard" {
        en: "is required for a failed item: its location, category and deadline",
        zh: "不合格的检查项必填：写明位置、类别和整改期限"
    }
    NotSpecialty = "not_specialty" {
        en: "is not one of the park's specialties",
        zh: "不是园区的专业之一"
    }
    OnlyForCorrection = "only_for_correction" {
        en: "is only for correcting a filed version",
        zh: "仅在更正已报备的版本时填写"
    }
    CorrectionNeedsReason = "correction_needs_reason" {
        en: "is required: the period was filed already, so this is a correction (a new version; the filed one is kept)",
        zh: "必填：此期已报备，本次为更正（生成新版本，原版本保留）"
    }
    PhaseRequired = "phase_required" {
        en: "is required: \"before\" or \"after\"",
        zh: "必填：须为整改前或整改后"
    }
    NotAfterEnd = "not_after_end" { en: "must not be after `to`", zh: "不能晚于结束日期" }
    EmailEmpty = "email_empty" { en: "must not be empty", zh: "不能为空" }
    ControlCharacters = "control_characters" {
        en: "must not contain control characters",
        zh: "不能包含控制字符"
    }
    EmailNoAt = "email_no_at" { en: "must contain @", zh: "须包含＠" }
    EmailOneAt = "email_one_at" {
        en: "must have exactly one @ with a name before it",
        zh: "须有且只有一个＠，且＠前有名称"
    }
    EmailDomain = "email_domain" {
        en: "must end in a domain such as example.com",
        zh: "须以域名结尾"
    }
    EmailSpaces = "email_spaces" {
        en: "must not contain spaces, commas or angle brackets",
        zh: "不能包含空格、逗号或尖括号"
    }
    Score = "score_range" { en: "must be a number from 0 to 100", zh: "须为0至100之间的数" }
    TwoDecimals = "two_decimals" { en: "must have at most two decimals", zh: "最多两位小数" }
    FenDecimals = "fen_decimals" {
        en: "must have at most two decimals (fen)",
        zh: "最多两位小数（精确到分）"
    }
    Year = "year_range" { en: "must be 2000–2100", zh: "须为2000至2100年" }
    Quarter = "quarter_range" { en: "must be 1–4", zh: "须为1至4" }
    NotFeedPosition = "not_feed_position" {
        en: "is not a position of the feed",
        zh: "不是变更流中的位置"
    }
    NoEventTypes = "no_event_types" {
        en: "must name at least one event type",
        zh: "须至少选择一种事件类型"
    }
    HostUnresolved = "host_unresolved" { en: "the host does not resolve", zh: "无法解析该主机名" }
    HostSlow = "host_slow" {
        en: "the host did not resolve in time",
        zh: "未能及时解析该主机名"
    }
    HostNotAllowed = "host_not_allowed" {
        en: "the host is not on the park's allow-list",
        zh: "该主机不在园区的允许名单中"
    }
    AfterEvidenceRequired = "after_evidence_required" {
        en: "a {level} hazard is submitted for acceptance only with at least one \"after\" evidence file (a photo or document of the rectification): upload it first",
        zh: "提交验收前须至少上传一份整改后的证据文件（照片或文件）"
    }
    AmountYuan = "amount_yuan" {
        en: "must be an amount in yuan from 0",
        zh: "须为不小于0的金额（元）"
    }
    CreditCodeLength = "credit_code_length" {
        en: "a unified social credit code has exactly 18 characters, but {len} were given",
        zh: "统一社会信用代码应为18位，这里是{len}位"
    }
    CreditCodeCharacter = "credit_code_character" {
        en: "character {position} ('{character}') cannot appear in a unified social credit code, which uses only digits and capital letters except {excluded}",
        zh: "第{position}位“{character}”不能出现在统一社会信用代码中（只用数字和大写字母，{excluded}除外）"
    }
    CreditCodeAuthority = "credit_code_authority" {
        en: "the first character of a unified social credit code (registration authority) must be a digit 1-9 or one of {letters}",
        zh: "统一社会信用代码第1位（登记管理部门代码）应为1～9或{letters}之一"
    }
    CreditCodeDivision = "credit_code_division" {
        en: "characters 3 to 8 of a unified social credit code (administrative division code) must all be digits",
        zh: "统一社会信用代码第3～8位（行政区划码）应全为数字"
    }
    CreditCodeCheck = "credit_code_check" {
        en: "the unified social credit code fails its check: the 18th character is '{found}' but the first 17 require '{expected}'; the code is probably mistyped",
        zh: "统一社会信用代码校验不符：第18位是“{found}”，按前17位应为“{expected}”，可能输错了"
    }
    // Accounts, keys and endpoints.
    RoleNotForUsers = "role_not_for_users" {
        en: "display is the role of wall screens' display keys (POST /api/v1/display-keys), not of users",
        zh: "大屏展示角色只用于大屏密钥，不能授予用户"
    }
    TooManyAddresses = "too_many_addresses" {
        en: "at most {max} addresses",
        zh: "最多填写{max}个邮箱地址"
    }
    ExpiresTooFar = "expires_too_far" {
        en: "must be at most two years ahead: issue a new key then",
        zh: "有效期最长两年：到期后请另发新密钥"
    }
    UrlNotAbsolute = "url_not_absolute" {
        en: "must be an absolute URL",
        zh: "须为完整的网址（含协议和主机名）"
    }
    UrlScheme = "url_scheme" {
        en: "must be http or https",
        zh: "只接受超文本传输协议或其加密版本的网址"
    }
    UrlNoHost = "url_no_host" { en: "must name a host", zh: "须写明主机名" }
    UrlCredentials = "url_credentials" {
        en: "must not carry credentials: the signature authenticates",
        zh: "不能包含用户名或密码：推送以签名验证身份"
    }
    HostNotPublic = "host_not_public" {
        en: "loopback, private, link-local, multicast, reserved and other non-public targets are refused (webhooks.allow_private_targets)",
        zh: "不接受本机回环、内网、链路本地、组播、保留等非公网地址（除非配置允许推送到内网地址）"
    }
    // Hazards, inspections and their records.
    InspectionOfOtherSource = "inspection_of_other_source" {
        en: "the inspection is a {inspection_source} check, not {source}",
        zh: "该检查的检查类型与隐患的检查类型不一致"
    }
    BeforePreviousDay = "before_previous_day" {
        en: "must not be before the day of the previous event ({previous_day})",
        zh: "不能早于上一步的日期（{previous_day}）"
    }
    BeforePreviousStep = "before_previous_step" {
        en: "must not be before the previous step ({not_before})",
        zh: "不能早于上一步骤的日期（{not_before}）"
    }
    DossierRequiredFirst = "dossier_required_first" {
        en: "a major hazard is planned only after its report (16号令 Art. 14: present state and cause, danger and difficulty) is recorded: PUT {dossier_path} first",
        zh: "重大事故隐患须先记录隐患报告（16号令第十四条：隐患的现状及其产生原因、危害程度和整改难易程度），才能制定治理方案；请先提交报告（{dossier_path}）"
    }
    NotEvidenceOfHazard = "not_evidence_of_hazard" {
        en: "must be an evidence file of this hazard: upload the assessment report first",
        zh: "须为本隐患的证据文件：请先上传评估报告"
    }
    TooManyNames = "too_many_names" { en: "at most {max} names", zh: "最多填写{max}个姓名" }
    ItemCount = "item_count" {
        en: "must hold 1 to {max} items",
        zh: "须包含1至{max}个检查项"
    }
    ResultCount = "result_count" {
        en: "must hold 1 to {max} results",
        zh: "须包含1至{max}条结果"
    }
    UnknownTrigger = "unknown_trigger" {
        en: "unknown trigger \"{trigger}\"; known: {known}",
        zh: "没有“{trigger}”这一直接判红情形；可选：{known}"
    }
    // Uploads, imports, exports and queries.
    OneFilePerUpload = "one_file_per_upload" {
        en: "send exactly one file per upload",
        zh: "每次上传只能发送一个文件"
    }
    NotAPhase = "not_a_phase" {
        en: "must be \"before\" or \"after\"",
        zh: "须为整改前或整改后"
    }
    NotUploadPart = "not_upload_part" {
        en: "is not a part of this upload ({parts})",
        zh: "不是此次上传可含的部分（可含：{parts}）"
    }
    OneImportPart = "one_import_part" {
        en: "an import has exactly one part, file",
        zh: "导入请求只能包含一个部分，即文件"
    }
    ExportTooLarge = "export_too_large" {
        en: "the export holds at most {max} hazards: narrow it (found_year, enterprise_id, …)",
        zh: "一次最多导出{max}条隐患：请缩小范围（如按发现年份或企业筛选）"
    }
    NotAChangeKind = "not_a_change_kind" {
        en: "\"{kind}\" is not a kind of change",
        zh: "“{kind}”不是变更类型之一"
    }
    AtMost = "at_most" { en: "must be at most {max}", zh: "不能超过{max}" }
    QuarterOfYear = "quarter_of_year" {
        en: "must be 1–4 of a year between 2000 and 2100",
        zh: "须为2000至2100年间某一年的第1至4季度"
    }
    CalendarFileInvalid = "calendar_file_invalid" {
        en: "the calendar file is not of the expected shape: {reason}",
        zh: "日历文件的格式不符合要求：{reason_zh}"
    }
    CalendarBadYear = "calendar_bad_year" {
        en: "the calendar file's year {year} is not a year between 1950 and 9999",
        zh: "日历文件的年份{year}不在1950至9999年之间"
    }
    CalendarNoSource = "calendar_no_source" {
        en: "the calendar file for {year} names no source: source.title must name the notice the dates come from",
        zh: "{year}年的日历文件未注明来源：须写明日期所依据的通知标题"
    }
    CalendarBadDate = "calendar_bad_date" {
        en: "days[{index}]: \"{text}\" is not a date written YYYY-MM-DD",
        zh: "日期列表第{index}项（自0起计）“{text}”不是“年-月-日”格式的日期"
    }
    CalendarBadKind = "calendar_bad_kind" {
        en: "days[{index}] ({date}): kind \"{text}\" is neither \"holiday\" nor \"working_day\"",
        zh: "日期列表第{index}项（{date}）的类型“{text}”既不是放假，也不是调休上班"
    }
    CalendarOutsideYear = "calendar_outside_year" {
        en: "days[{index}] ({date}): outside the file's year {year} (only that year and the December before it may be listed)",
        zh: "日期列表第{index}项（{date}）不在文件所属的{year}年内（只能列该年及其前一年的十二月）"
    }
    CalendarWorkingDayOnWeekday = "calendar_working_day_on_weekday" {
        en: "{date} is a {weekday}: a make-up working day (working_day) must be a Saturday or Sunday, Monday to Friday already are working days",
        zh: "{date}不是周末：调休上班日只能是星期六或星期日，星期一至星期五本就是工作日"
    }
    CalendarDuplicateDate = "calendar_duplicate_date" {
        en: "{date} is listed twice (both times as {day_kind}): list each date once",
        zh: "{date}列了两次：每个日期只能列一次"
    }
    CalendarConflictingKinds = "calendar_conflicting_kinds" {
        en: "{date} is listed both as {first_kind} and as {second_kind}",
        zh: "{date}同时被列为放假和调休上班"
    }
    CalendarDuplicateYear = "calendar_duplicate_year" {
        en: "the calendar for {year} is loaded twice",
        zh: "{year}年的日历载入了两次"
    }
    CalendarYearMismatch = "calendar_year_mismatch" {
        en: "the file is {file_year}'s, not {year}'s",
        zh: "文件是{file_year}年的日历，不是{year}年的"
    }
}

// The details of refusals (`403`, `409`, …) that name what went wrong.
// A parameter `{x_zh}` is the Chinese of `{x}` (a state's, role's or
// action's name), which the English names by its code or in words.
catalogue! {
    /// A problem's detail the catalogue names: a stable snake_case code
    /// (the problem's `detail_code`) with an English and a Chinese text.
    Detail;
    // Accounts.
    EmailTaken = "email_taken" {
        en: "a user with the email {email} already exists",
        zh: "邮箱为{email}的用户已存在。"
    }
    OwnAccount = "own_account" {
        en: "an admin cannot disable or demote their own account",
        zh: "管理员不能停用自己的账户，也不能降低自己的角色。"
    }
    UserChanged = "user_changed" {
        en: "the user was changed concurrently; reload and retry",
        zh: "该用户同时被他人修改，请重新读取后重试。"
    }
    UserChangedRetry = "user_changed_retry" {
        en: "the user was changed concurrently; retry",
        zh: "该用户同时被他人修改，请重试。"
    }
    RoleMayNot = "role_may_not" {
        en: "the {role} role may not {capability}",
        zh: "{role_zh}角色无权{capability_zh}。"
    }
    // Enterprises, webhooks, the demo park.
    CreditCodeTaken = "credit_code_taken" {
        en: "an enterprise with this unified social credit code is already registered",
        zh: "已有企业以此统一社会信用代码登记。"
    }
    EnterpriseChanged = "enterprise_changed" {
        en: "the enterprise was changed concurrently; reload and retry",
        zh: "该企业同时被他人修改，请重新读取后重试。"
    }
    WebhookChanged = "webhook_changed" {
        en: "the webhook changed meanwhile; reload it",
        zh: "该推送地址同时被他人修改，请重新读取。"
    }
    DatabaseNotEmpty = "database_not_empty" {
        en: "the database is not empty: load the demo park into a fresh database",
        zh: "数据库不是空的：演示园区只能载入新建的空数据库。"
    }
    // Hazards and their lifecycle.
    HazardChanged = "hazard_changed" {
        en: "the hazard was changed concurrently; reload it and retry",
        zh: "该隐患同时被他人修改，请重新读取后重试。"
    }
    NotInState = "not_in_state" {
        en: "cannot {action} a hazard that is {state}; this is only possible when it is {allowed}",
        zh: "隐患处于“{state_zh}”状态，不能进行“{action_zh}”操作；只有处于{allowed_zh}状态时才可以。"
    }
    MajorOnly = "major_only" {
        en: "cannot {action} a general hazard: the dossier and 挂牌督办 are for major hazards (重大事故隐患)",
        zh: "一般隐患不能进行“{action_zh}”操作：重大事故隐患报告和挂牌督办只适用于重大隐患。"
    }
    RoleMayNotTouchHazards = "role_may_not_touch_hazards" {
        en: "the {role} role may neither read nor change hazards",
        zh: "{role_zh}角色既不能查看也不能更改隐患。"
    }
    SignOffMajor = "sign_off_major" {
        en: "only a supervisor or admin may {action} a major hazard",
        zh: "只有园区监管人员或管理员可以对重大隐患进行“{action_zh}”操作。"
    }
    SignOffOwnSelfCheck = "sign_off_own_self_check" {
        en: "an enterprise contact may only {action} general hazards from its own self-check, not from {source} ({source_zh})",
        zh: "企业联系人只能对本企业自查发现的一般隐患进行“{action_zh}”操作，不能对{source_zh}发现的隐患进行此操作。"
    }
    RoleMayNotThisHazard = "role_may_not_this_hazard" {
        en: "a {role} may not {action} this hazard",
        zh: "{role_zh}角色不能对此隐患进行“{action_zh}”操作。"
    }
    RoleMayNotHazard = "role_may_not_hazard" {
        en: "a {role} may not {action} a hazard",
        zh: "{role_zh}角色不能对隐患进行“{action_zh}”操作。"
    }
    SupervisorOnly = "supervisor_only" {
        en: "only a supervisor or admin may {action} a hazard",
        zh: "只有园区监管人员或管理员可以对隐患进行“{action_zh}”操作。"
    }
    ExtensionByEnterprise = "extension_by_enterprise" {
        en: "only the enterprise responsible for the hazard may request a deadline extension",
        zh: "只有负责该隐患的企业可以申请延期。"
    }
    ListingByAuthority = "listing_by_authority" {
        en: "only a supervisor or admin may {action} a hazard: the listing and its end (摘牌) are the authority's",
        zh: "只有园区监管人员或管理员可以对隐患进行“{action_zh}”操作：挂牌督办及摘牌由主管部门决定。"
    }
    ListingStepRoles = "listing_step_roles" {
        en: "only the enterprise, an expert or a supervisor may {action} a listed hazard",
        zh: "只有企业、专家或园区监管人员可以对挂牌督办的隐患进行“{action_zh}”操作。"
    }
    ExtensionPending = "extension_pending" {
        en: "an extension request for this hazard is already pending a decision",
        zh: "该隐患已有一份延期申请在等待审批。"
    }
    ExtensionDecided = "extension_decided" {
        en: "the extension request was already {state}",
        zh: "该延期申请已{state_zh}。"
    }
    EvidenceFrozen = "evidence_frozen" {
        en: "the hazard is {state}: its evidence files can no longer change",
        zh: "隐患处于“{state_zh}”状态，其证据文件不能再更改。"
    }
    EvidenceRemover = "evidence_remover" {
        en: "only the uploader, a supervisor or an admin may remove an evidence file",
        zh: "只有上传人、园区监管人员或管理员可以删除证据文件。"
    }
    AssessmentReportStays = "assessment_report_stays" {
        en: "the file is the assessment report of the hazard's 挂牌督办 record and stays with it",
        zh: "该文件是隐患挂牌督办记录中的评估报告，须随记录保留。"
    }
    DossierOnlyMajor = "dossier_only_major" {
        en: "only a major hazard has a 重大事故隐患报告",
        zh: "只有重大隐患才有重大事故隐患报告。"
    }
    // 挂牌督办.
    ListingSettled = "listing_settled" {
        en: "the listing already has later steps recorded; it can no longer be amended",
        zh: "挂牌督办已记录了后续步骤，不能再修改。"
    }
    NotListed = "not_listed" {
        en: "the hazard is not listed for supervision (挂牌督办)",
        zh: "该隐患未挂牌督办。"
    }
    AlreadyDelisted = "already_delisted" {
        en: "the hazard was already delisted (摘牌); its listing takes no more steps",
        zh: "该隐患已摘牌，挂牌督办不再有后续步骤。"
    }
    NoProductionStop = "no_production_stop" {
        en: "production did not stop (see the dossier's production_stop), so there is no resumption to apply for",
        zh: "生产未曾停止（见重大事故隐患报告中的停产范围），无需申请复产。"
    }
    ListingStepsFirst = "listing_steps_first" {
        en: "{what} needs these recorded steps of the listing first: {missing}",
        zh: "{what_zh}之前，须先记录挂牌督办的以下步骤：{missing_zh}。"
    }
    // Inspections and checklists.
    SourceNotForRole = "source_not_for_role" {
        en: "the {role} role may only record its own self-checks (self_check), not {source}",
        zh: "{role_zh}角色只能记录本企业的自查，不能记录{source_zh}。"
    }
    OwnEnterpriseOnly = "own_enterprise_only" {
        en: "an enterprise contact may only record data of its own enterprise",
        zh: "企业联系人只能记录本企业的数据。"
    }
    OtherChecklist = "other_checklist" {
        en: "the inspection runs checklist {checklist_id}; record its results against that one",
        zh: "该检查使用的是检查表{checklist_id}，请按该检查表记录结果。"
    }
    ItemsHaveResults = "items_have_results" {
        en: "these items already have a result: {items}",
        zh: "以下检查项已有结果：{items}。"
    }
    // The risk register and its check tasks (双重预防).
    RegistryKeeps = "registry_keeps" {
        en: "the major hazard source registry keeps this part of the register: change it through the source",
        zh: "这部分风险清单由重大危险源登记维护，请通过重大危险源修改。"
    }
    RegistryTask = "registry_task" {
        en: "a 包保 duty task is given and retired by the major hazard source registry (appoint another person)",
        zh: "包保履职任务由重大危险源登记生成和停用（请改任包保责任人）。"
    }
    MeasureChecked = "measure_checked" {
        en: "the measure has active check tasks: retire them before it is watched by monitoring only",
        zh: "该管控措施还有在用的排查任务：先停用这些任务，再改为仅自动化监控。"
    }
    TaskOfOthers = "task_of_others" {
        en: "the task is given to another role or person; only they (or a supervisor) record it",
        zh: "该排查任务指派给了其他角色或人员，只有他们（或园区监管人员）可以记录。"
    }
    TaskInactive = "task_inactive" {
        en: "the task is no longer active",
        zh: "该排查任务已停用。"
    }
    NoBackdating = "no_backdating" {
        en: "the {role} role may not enter records after the fact: a check dated more than the park's tolerance ago",
        zh: "{role_zh}角色不能事后补录：这次排查的时间早于园区允许补记的时限。"
    }
    OccurrenceRecorded = "occurrence_recorded" {
        en: "occurrence {occurrence} of the task is already recorded",
        zh: "该任务第{occurrence}次排查已有记录。"
    }
    RecordPhotoMaker = "record_photo_maker" {
        en: "only the person who made the record (or a supervisor) adds its photos",
        zh: "只有记录人（或园区监管人员）可以为这条排查记录添加照片。"
    }
    AppointmentCollided = "appointment_collided" {
        en: "another person of this kind was appointed to the source at the same moment; read the source and try again",
        zh: "同一时刻已有另一人被任命为该重大危险源的同类包保责任人，请重新读取后重试。"
    }
    // Filings.
    FilingCollided = "filing_collided" {
        en: "another version of this filing was filed at the same time; reload it",
        zh: "这份报备的另一个版本同时提交了，请重新读取。"
    }
    PeriodNotEnded = "period_not_ended" {
        en: "the period ends on {last_day}; it is filed after it has ended",
        zh: "报备期间到{last_day}才结束，须在期间结束后报备。"
    }
    // Requests: their query, headers and bodies.
    QueryStringInvalid = "query_string_invalid" {
        en: "invalid query string: {reason}",
        zh: "查询参数有误：{reason_zh}。"
    }
    BodyTooLarge = "body_too_large" {
        en: "the request body exceeds {limit} bytes",
        zh: "请求体超过{limit}字节的上限。"
    }
    NotJsonContentType = "not_json_content_type" {
        en: "the request body must be {content_type}",
        zh: "请求体的内容类型须为{content_type}。"
    }
    BodyNotJson = "body_not_json" {
        en: "the request body is not valid JSON: {reason}",
        zh: "请求体格式有误，无法解析：{reason_zh}。"
    }
    BodyUnreadable = "body_unreadable" {
        en: "the request body could not be read: {reason}",
        zh: "无法读取请求体：{reason_zh}。"
    }
    IfMatchMalformed = "if_match_malformed" {
        en: "{header} must be \"*\" or a list of entity tags such as \"3\" (the ETag of the record)",
        zh: "请求头{header}格式有误：须为“*”或实体标签列表，例如“3”（即记录的实体标签）。"
    }
    IdempotencyKeyMalformed = "idempotency_key_malformed" {
        en: "{header} must be 1 to 255 visible ASCII characters, without spaces",
        zh: "请求头{header}须为1至255个可见的半角字符，不含空格。"
    }
    IdempotencyKeyReused = "idempotency_key_reused" {
        en: "this Idempotency-Key was used for a different request; use a new key",
        zh: "此幂等键已用于另一个请求，请使用新的幂等键。"
    }
    // Uploads.
    NotMultipart = "not_multipart" {
        en: "an upload must be {content_type} with the parts {parts}",
        zh: "上传的请求体须为{content_type}格式，并包含以下部分：{parts}。"
    }
    MultipartMalformed = "multipart_malformed" {
        en: "the multipart body is malformed or incomplete: {reason}",
        zh: "上传的分段请求体格式有误或不完整：{reason_zh}。"
    }
    TooManyParts = "too_many_parts" {
        en: "an upload has at most {max_parts} parts ({parts})",
        zh: "一次上传至多包含{max_parts}个部分（{parts}）。"
    }
    UploadTimedOut = "upload_timed_out" {
        en: "the upload stalled for {seconds} seconds; send it again",
        zh: "上传已停顿{seconds}秒，请重新发送。"
    }
    FileTooLarge = "file_too_large" {
        en: "the file exceeds the limit of {max_bytes} bytes per file",
        zh: "文件超过单个文件{max_bytes}字节的上限。"
    }
    FileExceedsHolderLimit = "file_exceeds_holder_limit" {
        en: "the file does not fit in {holder_limit} of {max_bytes} bytes",
        zh: "文件超出{holder_limit_zh}（{max_bytes}字节）。"
    }
    FileSizeOverflow = "file_size_overflow" {
        en: "the file is too large",
        zh: "文件过大。"
    }
    FileTypeNotAllowed = "file_type_not_allowed" {
        en: "the file is {detected}; evidence files must be one of {allowed}",
        zh: "文件类型为{detected}，证据文件只能是以下类型之一：{allowed}。"
    }
    FileTypeUnknown = "file_type_unknown" {
        en: "the file's type is not recognised; evidence files must be one of {allowed}",
        zh: "无法识别文件类型，证据文件只能是以下类型之一：{allowed}。"
    }
    HazardEvidenceFull = "hazard_evidence_full" {
        en: "the hazard holds {held} bytes of evidence; with this file it would exceed its limit of {max_bytes} bytes",
        zh: "该隐患的证据文件已占用{held}字节，加上此文件将超过{max_bytes}字节的上限。"
    }
    EnterpriseEvidenceQuota = "enterprise_evidence_quota" {
        en: "the enterprise's hazards hold {held} bytes of evidence; with this file they would exceed the enterprise's quota of {max_bytes} bytes",
        zh: "该企业各隐患的证据文件已占用{held}字节，加上此文件将超过企业{max_bytes}字节的配额。"
    }
    RecordPhotosFull = "record_photos_full" {
        en: "the record's photos hold {held} bytes; with this file they would exceed their limit of {max_bytes} bytes",
        zh: "该排查记录的照片已占用{held}字节，加上此文件将超过{max_bytes}字节的上限。"
    }
    ItemPhotosFull = "item_photos_full" {
        en: "the item's photos hold {held} bytes; with this file they would exceed their limit of {max_bytes} bytes",
        zh: "该检查项的照片已占用{held}字节，加上此文件将超过{max_bytes}字节的上限。"
    }
    SourceReportsFull = "source_reports_full" {
        en: "the file does not fit in the source's limit of {max_bytes} bytes",
        zh: "文件超出该重大危险源{max_bytes}字节的存储上限。"
    }
    // Ledger files imported.
    LedgerTooLarge = "ledger_too_large" {
        en: "文件超过 {max_bytes} 字节的上限",
        zh: "文件超过{max_bytes}字节的上限。"
    }
    WorkbookUnzippedTooLarge = "workbook_unzipped_too_large" {
        en: "工作簿解压后超过 {max_bytes} 字节的上限",
        zh: "工作簿解压后超过{max_bytes}字节的上限。"
    }
    LedgerTooManyRows = "ledger_too_many_rows" {
        en: "一个文件至多 {max_rows} 行隐患:请分成几个文件导入",
        zh: "一个文件至多{max_rows}行隐患：请分成几个文件导入。"
    }
    NotXlsxOrCsv = "not_xlsx_or_csv" {
        en: "文件既不是 XLSX 工作簿也不是 CSV 文本(旧版 .xls 请另存为 .xlsx)",
        zh: "文件既不是新版电子表格工作簿，也不是逗号分隔的文本（旧版工作簿请先另存为新版格式）。"
    }
    CsvEncodingUnknown = "csv_encoding_unknown" {
        en: "CSV 文件既不是 UTF-8 也不是 GB18030 编码的文本",
        zh: "逗号分隔文本的编码无法识别：须为统一码或国标码编码。"
    }
    // Any resource.
    Collided = "collided" {
        en: "the change collided with a concurrent one; retry it",
        zh: "此修改与同时进行的另一修改冲突，请重试。"
    }
}

/// A problem's detail: its English text and, when the catalogue names it,
/// its [`Detail`] with the parameters, so it can be written in Chinese too.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailText {
    english: String,
    detail: Option<Detail>,
    params: Params,
}

impl DetailText {
    /// The English detail.
    pub fn english(&self) -> &str {
        &self.english
    }

    /// The catalogue's detail, if it names this one.
    pub fn detail(&self) -> Option<Detail> {
        self.detail
    }

    /// The parameters the texts name.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The same with one more parameter.
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> DetailText {
        self.params.insert(name, value.into());
        if let Some(detail) = self.detail {
            self.english = render(detail.text(Lang::En), &self.params);
        }
        self
    }

    /// The Chinese detail, where the catalogue has one.
    pub fn chinese(&self) -> Option<String> {
        self.detail
            .map(|detail| render(detail.text(Lang::Zh), &self.params))
    }
}

impl Detail {
    /// This detail with one parameter; [`DetailText::with`] adds more.
    pub fn with(self, name: &'static str, value: impl Into<Value>) -> DetailText {
        DetailText::from(self).with(name, value)
    }

    /// This detail with a reader's cause: in its own English as `reason`,
    /// in Chinese as `reason_zh` (see [`cause_zh`]).
    pub fn because(self, reason: impl Into<String>) -> DetailText {
        let reason = reason.into();
        self.with("reason_zh", cause_zh(&reason))
            .with("reason", reason)
    }
}

impl From<Detail> for DetailText {
    fn from(detail: Detail) -> DetailText {
        DetailText {
            english: detail.text(Lang::En).to_owned(),
            detail: Some(detail),
            params: Params::new(),
        }
    }
}

/// A detail written as text: the catalogue's detail with that English
/// text (and no parameter), or else the text alone.
impl From<String> for DetailText {
    fn from(english: String) -> DetailText {
        let detail = Detail::ALL
            .iter()
            .copied()
            .find(|d| d.text(Lang::En) == english && !english.contains('{'));
        DetailText {
            english,
            detail,
            params: Params::new(),
        }
    }
}

impl From<&str> for DetailText {
    fn from(english: &str) -> DetailText {
        DetailText::from(english.to_owned())
    }
}

/// The English detail.
impl std::fmt::Display for DetailText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

/// The Chinese detail of each kind of problem, by its code; the English
/// detail is the error's own text. `{resource}`, `{retry_after_secs}` are
/// parameters.
pub const PROBLEM_DETAILS: &[(&str, &str)] = &[
    ("bad_request", "请求无法处理：格式或参数有误。"),
    ("validation_failed", "请求中有字段不符合要求。"),
    ("unauthorized", "未登录或登录已失效，请重新登录。"),
    ("forbidden", "没有执行此操作的权限。"),
    ("not_found", "{resource}不存在。"),
    ("conflict", "请求与资源的当前状态冲突，请刷新后重试。"),
    ("invalid_transition", "隐患当前所处的状态不允许此操作。"),
    (
        "precondition_failed",
        "资源在读取之后已被修改，请刷新后重试。",
    ),
    ("idempotency_key_reused", "此幂等键已用于另一个请求。"),
    (
        "idempotency_key_in_use",
        "使用同一幂等键的请求正在处理中，请稍后重试。",
    ),
    ("payload_too_large", "请求内容过大。"),
    ("quota_exceeded", "企业的存储配额已用完。"),
    ("request_timeout", "请求内容未能按时传完。"),
    ("unsupported_media_type", "不支持此请求内容的格式。"),
    ("service_unavailable", "数据库暂时不可用，请稍后重试。"),
    (
        "too_many_requests",
        "尝试次数过多，请在{retry_after_secs}秒后重试。",
    ),
    ("internal_error", "服务内部出错，已记录在日志中。"),
    ("method_not_allowed", "此资源不支持该请求方法。"),
    ("not_acceptable", "无法按请求的格式提供内容。"),
    ("length_required", "请求须注明内容长度。"),
    ("uri_too_long", "请求地址过长。"),
    ("request_header_fields_too_large", "请求头过大。"),
    ("internal_server_error", "服务内部出错，已记录在日志中。"),
];

/// The Chinese detail of a problem kind with no entry in
/// [`PROBLEM_DETAILS`].
pub const PROBLEM_DETAIL_FALLBACK: &str = "请求未能完成。";

/// Fixed English details some errors carry, and their Chinese.
pub const FIXED_DETAILS: &[(&str, &str)] = &[
    (
        "an Authorization: Bearer token is required",
        "请先登录：请求须携带访问令牌。",
    ),
    (
        "the Authorization header is malformed",
        "授权请求头格式有误。",
    ),
    (
        "the Authorization header must be 'Bearer <token>'",
        "授权请求头须为访问令牌。",
    ),
    (
        "the access token is invalid or expired",
        "访问令牌无效或已过期，请重新登录。",
    ),
    (
        "the account behind this token no longer exists or is disabled",
        "此令牌所属的账户已不存在或已停用。",
    ),
    (
        "the account changed since this token was issued; sign in again",
        "账户在令牌签发后已变更，请重新登录。",
    ),
    (
        "this token was revoked (password changed or signed out everywhere); sign in again",
        "此令牌已被撤销（密码已修改或已在所有设备上退出），请重新登录。",
    ),
    (
        "the email or password is wrong, or the account is disabled",
        "邮箱或密码错误，或账户已停用。",
    ),
    ("no such display key", "大屏密钥不存在。"),
    ("this display key has expired", "大屏密钥已过期。"),
    ("this display key was revoked", "大屏密钥已被撤销。"),
    (
        "the resource has changed since it was read (If-Match is stale)",
        "资源在读取之后已被修改，请刷新后重试。",
    ),
];

/// The Chinese names of the resources a `404` names.
pub const RESOURCES: &[(&str, &str)] = &[
    ("assessment report", "评估报告"),
    ("attachment", "证据文件"),
    ("check record photo", "排查记录照片"),
    ("check record", "排查记录"),
    ("check task", "排查任务"),
    ("checklist photo", "检查表照片"),
    ("checklist result", "检查表结果"),
    ("checklist", "检查表"),
    ("control measure", "管控措施"),
    ("display key", "大屏密钥"),
    ("enterprise", "企业"),
    ("extension request", "延期申请"),
    ("filing", "报备"),
    ("hazard", "隐患"),
    ("import", "导入"),
    ("inspection", "检查"),
    ("listing", "挂牌督办"),
    ("major hazard source", "重大危险源"),
    ("resource", "资源"),
    ("risk analysis object", "风险分析对象"),
    ("risk analysis unit", "风险分析单元"),
    ("safety risk event", "安全风险事件"),
    ("user", "用户"),
    ("webhook", "推送地址"),
];

/// The Chinese detail of a problem of kind `code` whose English detail is
/// `english`: a fixed text's own translation, or the kind's.
pub fn problem_detail_zh(code: &str, english: &str, params: &Params) -> String {
    if let Some((_, zh)) = FIXED_DETAILS.iter().find(|(en, _)| *en == english) {
        return (*zh).to_owned();
    }
    let text = PROBLEM_DETAILS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(PROBLEM_DETAIL_FALLBACK, |(_, zh)| zh);
    render(text, params)
}

/// The Chinese name of a resource a `404` names.
pub fn resource_zh(resource: &str) -> &'static str {
    RESOURCES
        .iter()
        .find(|(en, _)| *en == resource)
        .map_or("资源", |(_, zh)| zh)
}

/// The rule a JSON value of the wrong shape broke, read from serde's own
/// words ("invalid type: string \"x\", expected u32"): what the field
/// expects, so a form can say it beside the field in either language.
/// `None` for words serde does not use for a value's shape (a field missing
/// or unknown is the caller's to name, with the field).
pub fn json_fault(message: &str) -> Option<(Rule, Params)> {
    let message = message.split(" at line ").next().unwrap_or(message);
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        // serde writes "expected `a`", "expected `a` or `b`" or "expected
        // one of `a`, `b`, `c`".
        let allowed = rest.split_once(", expected ").map(|(_, list)| {
            let list = list.strip_prefix("one of ").unwrap_or(list);
            list.replace('`', "").replace(" or ", ", ")
        });
        return Some(match allowed {
            Some(allowed) => (Rule::OneOf, Params::from([("allowed", allowed.into())])),
            None => (Rule::NotAllowedValue, Params::new()),
        });
    }
    if message.starts_with("invalid length ") {
        return Some((Rule::WrongLength, Params::new()));
    }
    let expected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let Some((found, expected)) = expected else {
        return Some((custom_fault(message), Params::new()));
    };
    if found == "null" {
        return Some((Rule::NotNull, Params::new()));
    }
    let rule = match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => Rule::NotACount,
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => Rule::NotAnInteger,
        "f32" | "f64" => Rule::NotANumber,
        "a boolean" => Rule::NotABoolean,
        "a string" | "a borrowed string" | "a character" => Rule::NotAString,
        e if e.starts_with("a sequence") || e.starts_with("a tuple") => Rule::NotAList,
        e if e.starts_with("struct ") || e == "a map" => Rule::NotAnObject,
        e if e.contains("UUID") => Rule::NotAUuid,
        e if e.contains("date and time") || e.contains("RFC 3339") => Rule::NotATime,
        e if e.contains("date") => Rule::NotADate,
        _ => Rule::NotAllowedValue,
    };
    Some((rule, Params::new()))
}

/// A fault a type's own reader raised in its own words: a date's or a
/// time's (chrono's), an identifier's (uuid's), or another value.
fn custom_fault(message: &str) -> Rule {
    const CHRONO: &[&str] = &[
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
    ];
    if message.contains("UUID") {
        Rule::NotAUuid
    } else if CHRONO.contains(&message) {
        Rule::NotADate
    } else {
        Rule::NotAllowedValue
    }
}

/// A reader's cause in its own English said in Chinese, with the place it
/// names: serde_json's ("key must be a string at line 1 column 2"), a query
/// string's (serde_urlencoded's, a number's parser's), a multipart or
/// payload reader's. What is not recognised is said in general words; the
/// English stays in the problem's `reason`.
pub fn cause_zh(message: &str) -> String {
    let message = ["Query deserialize error: ", "Json deserialize error: "]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .unwrap_or(message);
    let (cause, place) = match message.rsplit_once(" at line ") {
        Some((cause, place)) => (cause, place.split_once(" column ")),
        None => (message, None),
    };
    let quoted = |prefix: &str| {
        cause
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let what = if let Some(field) = quoted("missing field `") {
        format!("缺少字段“{field}”")
    } else if let Some(field) = quoted("unknown field `") {
        format!("“{field}”不是此处可用的字段")
    } else if let Some(field) = quoted("duplicate field `") {
        format!("字段“{field}”出现了两次")
    } else if cause.starts_with("EOF while parsing") {
        "内容不完整，在此提前结束".to_owned()
    } else {
        let text = match cause {
            "expected `:`" => "此处应为冒号",
            "expected `,` or `]`" => "此处应为逗号或右方括号",
            "expected `,` or `}`" => "此处应为逗号或右花括号",
            "expected value" | "expected ident" => "此处应为一个值",
            "key must be a string" => "对象的键应为带引号的文字",
            "trailing comma" => "此处有多余的逗号",
            "trailing characters" => "值之后有多余的字符",
            "recursion limit exceeded" => "嵌套层数过多",
            "invalid digit found in string" | "invalid float literal" => "应为数字",
            "cannot parse integer from empty string" => "数字不能为空",
            "number too large to fit in target type" => "数字过大",
            "number too small to fit in target type" => "数字过小",
            "provided string was not `true` or `false`" => "应为真或假",
            c if c.starts_with("A payload reached EOF") => "请求体不完整",
            c if c.contains("escape") || c.contains("unicode") || c.contains("surrogate") => {
                "文字中的转义写法无效"
            }
            c if c.starts_with("control character") => "文字中含有控制字符",
            c if c.contains("number") => "数字无效或超出范围",
            c => match json_fault(c) {
                Some((rule, params)) if rule != Rule::NotAllowedValue => {
                    let said = render(rule.text(Lang::Zh), &params);
                    return with_place(place, &format!("取值不符：{said}"));
                }
                _ => "内容不符合要求",
            },
        };
        text.to_owned()
    };
    with_place(place, &what)
}

fn with_place(place: Option<(&str, &str)>, what: &str) -> String {
    match place {
        Some((line, column)) => format!("{what}（第{line}行第{column}列）"),
        None => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders of a text, `{name}` each.
    fn placeholders(text: &str) -> Vec<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// What a Chinese text may not hold: an English word (ASCII letters
    /// outside a placeholder) or half-width punctuation where Chinese
    /// writes full-width.
    fn english_in(text: &str) -> Option<String> {
        let mut outside = String::new();
        let mut depth = 0;
        for c in text.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                c if depth == 0 => outside.push(c),
                _ => {}
            }
        }
        if outside.chars().any(|c| c.is_ascii_alphabetic()) {
            return Some(format!("an English word in {text:?}"));
        }
        if outside.chars().any(|c| ",:;()?!".contains(c)) {
            return Some(format!("half-width punctuation in {text:?}"));
        }
        None
    }

    #[test]
    fn every_rule_has_a_chinese_text_without_english_and_the_same_parameters() {
        let mut codes = std::collections::BTreeSet::new();
        for rule in Rule::ALL {
            assert!(codes.insert(rule.code()), "{} twice", rule.code());
            let zh = rule.text(Lang::Zh);
            assert!(!zh.trim().is_empty(), "{} has no Chinese text", rule.code());
            if let Some(problem) = english_in(zh) {
                panic!("{}: {problem}", rule.code());
            }
            if *rule != Rule::Invalid {
                let mut en = parameters_of(rule.text(Lang::En));
                let mut zh = parameters_of(zh);
                en.sort_unstable();
                zh.sort_unstable();
                // The role, level, check sources, weekdays and kinds of
                // day are named in English only: their values are English
                // codes the Chinese leaves out.
                en.retain(|p| {
                    ![
                        "role",
                        "level",
                        "source",
                        "inspection_source",
                        "weekday",
                        "day_kind",
                        "first_kind",
                        "second_kind",
                    ]
                    .contains(p)
                });
                assert_eq!(en, zh, "{}: the texts' parameters differ", rule.code());
            }
        }
    }

    /// A text's parameters, sorted, a Chinese `{x_zh}` counted as the
    /// `{x}` it gives the Chinese of.
    fn parameters_of(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = placeholders(text)
            .into_iter()
            .map(|p| p.strip_suffix("_zh").unwrap_or(p))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    #[test]
    fn every_detail_has_a_chinese_text_without_english_and_the_same_parameters() {
        let mut codes = std::collections::BTreeSet::new();
        for detail in Detail::ALL {
            let code = detail.code();
            assert!(codes.insert(code), "{code} twice");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code} is not snake_case"
            );
            let zh = detail.text(Lang::Zh);
            if let Some(problem) = english_in(zh) {
                panic!("{code}: {problem}");
            }
            assert!(zh.ends_with('。'), "{code}: a detail is a sentence: {zh}");
            assert_eq!(
                parameters_of(detail.text(Lang::En)),
                parameters_of(zh),
                "{code}: the texts' parameters differ"
            );
        }
    }

    #[test]
    fn serdes_words_become_rules_and_chinese() {
        let rule = |message: &str| json_fault(message).map(|(rule, _)| rule);
        assert_eq!(
            rule("invalid type: string \"x\", expected u32"),
            Some(Rule::NotACount)
        );
        assert_eq!(
            rule("invalid type: integer `3`, expected a string"),
            Some(Rule::NotAString)
        );
        assert_eq!(
            rule("invalid type: null, expected a string"),
            Some(Rule::NotNull)
        );
        assert_eq!(
            rule("invalid type: string \"a\", expected a sequence"),
            Some(Rule::NotAList)
        );
        assert_eq!(
            rule("input contains invalid characters"),
            Some(Rule::NotADate)
        );
        assert_eq!(
            rule("UUID parsing failed: invalid length"),
            Some(Rule::NotAUuid)
        );
        for (message, allowed) in [
            ("unknown variant `x`, expected `a` or `b`", "a, b"),
            (
                "unknown variant `x`, expected one of `a`, `b`, `c`",
                "a, b, c",
            ),
        ] {
            let (rule, params) = json_fault(message).unwrap_or((Rule::Invalid, Params::new()));
            assert_eq!(rule, Rule::OneOf);
            assert_eq!(params["allowed"], allowed);
        }
        for (message, chinese) in [
            (
                "key must be a string at line 1 column 2",
                "对象的键应为带引号的文字（第1行第2列）",
            ),
            (
                "EOF while parsing an object at line 3 column 0",
                "内容不完整，在此提前结束（第3行第0列）",
            ),
            ("missing field `year`", "缺少字段“year”"),
            (
                "invalid type: string \"x\", expected u32 at line 1 column 9",
                "取值不符：应为不小于0的整数（第1行第9列）",
            ),
            ("something nobody wrote", "内容不符合要求"),
            (
                "Query deserialize error: invalid digit found in string",
                "应为数字",
            ),
            (
                "Query deserialize error: unknown variant `x`, expected `a` or `b`",
                "取值不符：须为以下之一：a, b",
            ),
        ] {
            assert_eq!(cause_zh(message), chinese, "{message}");
        }
    }

    #[test]
    fn a_detail_keeps_its_english_and_names_its_values_in_chinese() {
        let text = Detail::OccurrenceRecorded.with("occurrence", 3);
        assert_eq!(
            text.to_string(),
            "occurrence 3 of the task is already recorded"
        );
        assert_eq!(text.chinese().as_deref(), Some("该任务第3次排查已有记录。"));
        let text = Detail::EmailTaken.with("email", "x@y.cn");
        assert_eq!(
            text.english(),
            "a user with the email x@y.cn already exists"
        );
        assert_eq!(
            text.chinese().as_deref(),
            Some("邮箱为x@y.cn的用户已存在。")
        );
        // A fixed text written out is still the catalogue's.
        let text = DetailText::from("the task is no longer active");
        assert_eq!(text.detail(), Some(Detail::TaskInactive));
        assert_eq!(DetailText::from("something else").chinese(), None);
        // A value is not read for places.
        let text = Detail::EmailTaken.with("email", "{email}");
        assert_eq!(
            text.chinese().as_deref(),
            Some("邮箱为{email}的用户已存在。")
        );
    }

    #[test]
    fn every_problem_kind_has_a_chinese_detail_without_english() {
        for (code, zh) in PROBLEM_DETAILS.iter().chain(FIXED_DETAILS) {
            if let Some(problem) = english_in(zh) {
                panic!("{code}: {problem}");
            }
            assert!(zh.ends_with('。'), "{code}: a detail is a sentence: {zh}");
        }
        for (name, zh) in RESOURCES {
            assert!(english_in(zh).is_none(), "{name}: {zh}");
        }
        assert!(english_in(PROBLEM_DETAIL_FALLBACK).is_none());
    }

    #[test]
    fn accept_language_prefers_chinese_only_when_asked_for_first_or_most() {
        for header in [
            "zh",
            "zh-CN",
            "zh-Hans",
            "zh-Hans-CN,zh;q=0.9",
            "zh-CN,zh;q=0.9,en;q=0.8",
            "en;q=0.5, zh-CN;q=0.9",
            "ZH-cn",
        ] {
            assert_eq!(Lang::preferred(header), Lang::Zh, "{header}");
        }
        for header in [
            "",
            "en",
            "en-US,en;q=0.9",
            "en-US,zh-CN;q=0.8",
            "zh;q=0",
            "fr, zh;q=0.5, *;q=0.8",
            "de",
        ] {
            assert_eq!(Lang::preferred(header), Lang::En, "{header}");
        }
    }

    #[test]
    fn a_plain_text_of_the_catalogue_is_its_rule() {
        assert_eq!(rule_of_text("is required"), Some(Rule::Required));
        assert_eq!(
            rule_of_text("no such enterprise"),
            Some(Rule::UnknownEnterprise)
        );
        assert_eq!(rule_of_text("must be at most {max} characters"), None);
        assert_eq!(rule_of_text("anything else"), None);
    }

    #[test]
    fn parameters_fill_their_places() {
        let params = Params::from([
            ("max", Value::from(200)),
            ("current_deadline", Value::from("2026-12-20")),
        ]);
        assert_eq!(
            render(Rule::TooLong.text(Lang::Zh), &params),
            "不能超过200个字符"
        );
        assert_eq!(
            render(Rule::DeadlineLaterThanCurrent.text(Lang::En), &params),
            "must not be later than the current deadline 2026-12-20; request an extension instead"
        );
    }
}
