//! Lead imports: a file of leads (a customer with its first contact and custom fields) loaded in
//! the background, each row matched against the customers already there, with a result per row.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::customers::CustomerFields;
use crate::FieldError;

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line, shaped like a customer create body plus `contact`.
    JsonLines,
}

/// What happens when some rows are bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Good rows land, bad rows are reported.
    Partial,
    /// Nothing lands if any row is bad.
    Atomic,
}

/// A value a row is matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKey {
    /// The normalised email (customer's own or a contact's).
    Email,
    /// The normalised phone (E.164; customer's own or a contact's).
    Phone,
    /// The customer's id in another system, as written.
    ExternalId,
}

/// What a row that matches an existing customer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMatch {
    /// Nothing: the row is reported as a skipped duplicate.
    Skip,
    /// Fills the customer's empty fields from the row; set fields stay.
    UpdateEmptyFields,
    /// Writes every value the row has over the customer's.
    Overwrite,
    /// Creates a new customer regardless.
    CreateAnyway,
    /// Refuses the lead as a duplicate (single and batch creates without `allow_duplicate`).
    Refuse,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Waiting to run (also after a restart interrupted it).
    Queued,
    /// Rows are being processed.
    Running,
    /// Every row has a result.
    Completed,
    /// The job stopped: see its error (in atomic mode: nothing was written).
    Failed,
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    /// A new customer (in a dry run: would be created).
    Created,
    /// An existing customer was changed.
    Updated,
    /// It matched an existing customer and was left alone.
    Skipped,
    /// It was refused; the errors say why.
    Failed,
}

macro_rules! named {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }

            /// Parses the wire name.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }
    };
}

named!(ImportFormat { Csv => "csv", JsonLines => "jsonl" });
named!(ImportMode { Partial => "partial", Atomic => "atomic" });
named!(MatchKey { Email => "email", Phone => "phone", ExternalId => "external_id" });
named!(OnMatch {
    Skip => "skip",
    UpdateEmptyFields => "update_empty_fields",
    Overwrite => "overwrite",
    CreateAnyway => "create_anyway",
    Refuse => "refuse",
});
named!(ImportStatus {
    Queued => "queued",
    Running => "running",
    Completed => "completed",
    Failed => "failed",
});
named!(RowOutcome {
    Created => "created",
    Updated => "updated",
    Skipped => "skipped",
    Failed => "failed",
});

/// The field a column fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A customer field, by its name in the customer body (`name`, `phone`, …).
    Customer(&'static str),
    /// A field of the first contact (`name`, `title`, `phone`, `email`, `wechat_id`, `notes`).
    Contact(&'static str),
    /// A customer custom field, by key.
    Custom(String),
}

/// Customer fields a column may fill.
pub const CUSTOMER_TARGETS: [&str; 16] = [
    "external_id",
    "name",
    "kind",
    "legal_name",
    "industry",
    "company_size",
    "website",
    "address",
    "tax_id",
    "phone",
    "email",
    "status",
    "classification",
    "lead_source",
    "tags",
    "gender",
];

/// First-contact fields a column may fill.
pub const CONTACT_TARGETS: [&str; 6] = ["name", "title", "phone", "email", "wechat_id", "notes"];

impl Target {
    /// Parses `name`, `contact.title`, `cf.budget`; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Target> {
        if let Some(key) = raw.strip_prefix("cf.") {
            return (!key.is_empty()).then(|| Target::Custom(key.to_string()));
        }
        if let Some(field) = raw.strip_prefix("contact.") {
            return CONTACT_TARGETS
                .iter()
                .find(|f| **f == field)
                .map(|f| Target::Contact(f));
        }
        CUSTOMER_TARGETS
            .iter()
            .find(|f| **f == raw)
            .map(|f| Target::Customer(f))
    }

    /// The wire name, as [`Target::parse`] reads it.
    pub fn name(&self) -> String {
        match self {
            Target::Customer(f) => (*f).to_string(),
            Target::Contact(f) => format!("contact.{f}"),
            Target::Custom(key) => format!("cf.{key}"),
        }
    }

    /// The JSON pointer of this field in a lead body (`/name`, `/contact/title`,
    /// `/custom_fields/budget`).
    pub fn pointer(&self) -> String {
        match self {
            Target::Customer(f) => format!("/{f}"),
            Target::Contact("phone") => "/contact/phones/0".to_string(),
            Target::Contact(f) => format!("/contact/{f}"),
            Target::Custom(key) => format!("/custom_fields/{key}"),
        }
    }
}

/// Common spreadsheet headers (Chinese and English, compared trimmed and in lower case) and the
/// field each fills when the caller's mapping does not say.
const HEADER_DEFAULTS: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "客户名称",
            "客户名",
            "客户",
            "公司名称",
            "公司",
            "企业名称",
            "名称",
            "name",
            "customer",
            "customer name",
            "company",
            "company name",
            "account",
            "account name",
        ],
    ),
    (
        "kind",
        &["类型", "客户类型", "kind", "type", "customer type"],
    ),
    (
        "contact.name",
        &[
            "联系人",
            "联系人姓名",
            "姓名",
            "contact",
            "contact name",
            "contact person",
        ],
    ),
    (
        "contact.title",
        &["职位", "职务", "title", "job title", "position"],
    ),
    (
        "phone",
        &[
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "联系电话",
            "mobile",
            "phone",
            "telephone",
            "tel",
            "phone number",
            "mobile phone",
        ],
    ),
    (
        "email",
        &[
            "邮箱",
            "电子邮箱",
            "邮件",
            "email",
            "e-mail",
            "email address",
            "mail",
        ],
    ),
    (
        "lead_source",
        &["线索来源", "来源", "客户来源", "lead source", "source"],
    ),
    ("address", &["城市", "地址", "所在城市", "city", "address"]),
    ("industry", &["行业", "所属行业", "industry"]),
    (
        "contact.notes",
        &[
            "备注", "说明", "notes", "note", "remarks", "comment", "comments",
        ],
    ),
    ("website", &["网站", "官网", "website", "web", "url"]),
    ("tags", &["标签", "tags"]),
    (
        "external_id",
        &["外部编号", "外部id", "external id", "externalid", "crm id"],
    ),
    ("status", &["状态", "status"]),
    ("legal_name", &["公司全称", "法定名称", "legal name"]),
    ("tax_id", &["税号", "纳税人识别号", "tax id", "vat id"]),
    (
        "classification",
        &[
            "等级",
            "客户等级",
            "分级",
            "classification",
            "rating",
            "grade",
        ],
    ),
];

/// The field a header fills by default, if it is a common one.
pub fn default_target(header: &str) -> Option<Target> {
    let header = header.trim().to_lowercase().replace(['_', '-'], " ");
    HEADER_DEFAULTS
        .iter()
        .find(|(_, names)| {
            names
                .iter()
                .any(|n| n.replace(['_', '-'], " ") == header || *n == header)
        })
        .and_then(|(target, _)| Target::parse(target))
}

/// Which field each column fills (`None`: ignored), from the caller's `mapping` (header → field
/// name, `""` or `"ignore"` to ignore a column) and the defaults for the other headers. Every
/// problem is listed: a mapped header that is not in the file, an unknown field or custom field
/// (`custom_keys`: the live customer custom fields), two columns for one field, no name column.
pub fn resolve_columns(
    headers: &[String],
    mapping: &BTreeMap<String, String>,
    custom_keys: &[String],
) -> Result<Vec<Option<Target>>, Vec<FieldError>> {
    let mut errors = Vec::new();
    for (header, field) in mapping {
        let pointer = format!("/mapping/{}", pointer_token(header));
        if !headers.iter().any(|h| h.trim() == header.trim()) {
            errors.push(FieldError::new(
                &pointer,
                "unknown_column",
                "the file has no column with this header",
            ));
        }
        if field.is_empty() || field == "ignore" {
            continue;
        }
        match Target::parse(field) {
            None => errors.push(FieldError::new(
                &pointer,
                "unknown_target",
                "not a field a column can fill (see the import documentation)",
            )),
            Some(Target::Custom(key)) if !custom_keys.contains(&key) => {
                errors.push(FieldError::new(
                    &pointer,
                    "unknown_field",
                    "no live customer custom field has this key",
                ))
            }
            Some(_) => {}
        }
    }
    let columns: Vec<Option<Target>> = headers
        .iter()
        .map(|header| match mapping.get(header.trim()) {
            Some(field) => Target::parse(field),
            None => default_target(header),
        })
        .collect();
    for (i, target) in columns.iter().enumerate() {
        let Some(target) = target else { continue };
        if columns[..i].iter().flatten().any(|t| t == target) {
            errors.push(FieldError::new(
                format!("/mapping/{}", pointer_token(&headers[i])),
                "duplicate_target",
                format!("another column already fills {}", target.name()),
            ));
        }
    }
    if !columns.iter().any(|t| t == &Some(Target::Customer("name"))) {
        errors.push(FieldError::new(
            "/mapping",
            "no_name_column",
            "no column fills the customer's name: map one to \"name\"",
        ));
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// `token` escaped for a JSON pointer.
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The kind a spreadsheet writes: 企业 / B2B / company → `company`; 个人 / B2C / individual →
/// `individual` (case-insensitive); anything else unchanged, for validation to refuse.
pub fn kind_word(raw: &str) -> String {
    let word = raw.trim().to_lowercase();
    match word.as_str() {
        "企业" | "公司" | "企业客户" | "b2b" | "company" | "business" | "organization" => {
            "company".to_string()
        }
        "个人" | "个人客户" | "b2c" | "individual" | "person" | "consumer" => {
            "individual".to_string()
        }
        _ => word,
    }
}

/// Common names of the built-in lead sources, in Chinese and English (compared in lower case).
const SOURCE_ALIASES: &[(&str, &[&str])] = &[
    (
        "website",
        &[
            "官网",
            "官网表单",
            "网站",
            "web form",
            "website form",
            "web",
        ],
    ),
    ("referral", &["转介绍", "推荐", "介绍"]),
    (
        "trade_show",
        &["展会", "trade show", "tradeshow", "exhibition", "展览"],
    ),
    (
        "advertising",
        &["广告", "广告投放", "ads", "ad", "paid ads"],
    ),
    (
        "cold_call",
        &[
            "电话营销",
            "陌拜",
            "cold call",
            "telemarketing",
            "cold calling",
        ],
    ),
    (
        "social_media",
        &["社交媒体", "微信", "social", "social media"],
    ),
    ("partner", &["合作伙伴", "渠道", "partner", "channel"]),
    ("other", &["其他", "其它"]),
];

/// The lead source key a cell names: an active source's key or label (case-insensitive), or a
/// common name of a built-in one; `None` when it names none of `sources` (`(key, label)`).
pub fn lead_source_key(raw: &str, sources: &[(String, String)]) -> Option<String> {
    let word = raw.trim().to_lowercase();
    let direct = sources.iter().find(|(key, label)| {
        key.to_lowercase() == word || label.to_lowercase() == word || key.replace('_', " ") == word
    });
    if let Some((key, _)) = direct {
        return Some(key.clone());
    }
    SOURCE_ALIASES
        .iter()
        .find(|(_, names)| names.contains(&word.as_str()))
        .map(|(key, _)| key.to_string())
        .filter(|key| sources.iter().any(|(k, _)| k == key))
}

/// A cell as a spreadsheet opens it safely: text that starts like a formula (`=`, `+`, `-`,
/// `@`, tab or carriage return) gets a leading `'` so it shows as text instead of running.
pub fn spreadsheet_safe(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// What the caller asked of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSettings {
    /// The file's format.
    pub format: ImportFormat,
    /// The encoding the file is read in (`UTF-8` or `gb18030`), declared or detected.
    pub encoding: String,
    /// Partial or atomic.
    pub mode: ImportMode,
    /// Values that find an existing customer (empty: no matching).
    pub match_on: Vec<MatchKey>,
    /// What a matching row does.
    pub on_match: OnMatch,
    /// Report what would happen, write nothing.
    pub dry_run: bool,
    /// The new customers' owner; `None`: the shared pool.
    pub owner_id: Option<String>,
    /// Header → field name, as the caller gave it.
    pub mapping: BTreeMap<String, String>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    /// UUIDv7.
    pub id: String,
    /// Who uploaded it (user or API key id); the rows are written as them.
    pub created_by: String,
    /// What was asked.
    pub settings: ImportSettings,
    /// Where it is.
    pub status: ImportStatus,
    /// Bytes uploaded.
    pub size_bytes: i64,
    /// Data rows in the file, once counted.
    pub total_rows: Option<i64>,
    /// Rows with a result.
    pub rows_processed: i64,
    /// Rows per outcome: created, updated, skipped, failed.
    pub counts: OutcomeCounts,
    /// Why the job failed.
    pub error: Option<JobError>,
    /// When uploaded.
    pub created_at: DateTime<Utc>,
    /// When processing started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// New customers.
    pub created: i64,
    /// Changed customers.
    pub updated: i64,
    /// Skipped duplicates.
    pub skipped: i64,
    /// Refused rows.
    pub failed: i64,
}

impl OutcomeCounts {
    /// Counts one more row with this outcome.
    pub fn add(&mut self, outcome: RowOutcome) {
        match outcome {
            RowOutcome::Created => self.created += 1,
            RowOutcome::Updated => self.updated += 1,
            RowOutcome::Skipped => self.skipped += 1,
            RowOutcome::Failed => self.failed += 1,
        }
    }
}

/// Why a whole job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// Stable code, e.g. `rows_invalid`, `not_csv`, `interrupted_upload`.
    pub code: String,
    /// Explanation for a person.
    pub message: String,
}

/// One problem of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The column (its header; for JSON Lines the field's pointer); `None` for the whole row.
    pub column: Option<String>,
    /// The field's pointer in the lead body.
    pub pointer: String,
    /// Stable code, as the single-record endpoints use.
    pub code: String,
    /// Explanation for a person.
    pub message: String,
}

/// The result of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// 1-based data row (the header is not counted).
    pub row: i64,
    /// What became of it.
    pub outcome: RowOutcome,
    /// The created, updated or matched customer (`None` when failed, or when the match is a
    /// customer the importer may not see).
    pub customer_id: Option<String>,
    /// For a match: the row of this file that created the matched customer, when known.
    pub matched_row: Option<i64>,
    /// Why it failed.
    pub errors: Vec<RowError>,
}

/// A valid row: the customer and its first contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    /// The customer.
    pub customer: CustomerFields,
    /// The first contact.
    pub contact: Option<crate::customers::ContactFields>,
    /// The customer fields the row had a value for (`kind`, `status`, …).
    pub given: Vec<String>,
}

impl Lead {
    /// The normalised values a row is matched on, for the chosen keys: the customer's and the
    /// contact's email and phones, each prefixed by its kind (`email:`, `phone:`).
    pub fn match_values(&self, keys: &[MatchKey]) -> Vec<String> {
        let mut values = Vec::new();
        if keys.contains(&MatchKey::Email) {
            let emails = self
                .customer
                .email
                .iter()
                .chain(self.contact.iter().flat_map(|c| c.email.iter()));
            values.extend(emails.map(|e| format!("email:{}", e.normalized)));
        }
        if keys.contains(&MatchKey::Phone) {
            let phones = self
                .customer
                .phone
                .iter()
                .chain(self.contact.iter().flat_map(|c| c.phones.iter()));
            values.extend(phones.map(|p| format!("phone:{}", p.normalized)));
        }
        if keys.contains(&MatchKey::ExternalId) {
            let ids = self.customer.external_id.iter();
            values.extend(ids.map(|id| format!("external_id:{id}")));
        }
        values.sort();
        values.dedup();
        values
    }
}

/// `current` with its empty fields (and missing custom values) filled from `lead`.
pub fn fill_empty(current: &CustomerFields, lead: &CustomerFields) -> CustomerFields {
    fn fill<T: Clone>(mine: &Option<T>, theirs: &Option<T>) -> Option<T> {
        mine.clone().or_else(|| theirs.clone())
    }
    let mut custom_fields = current.custom_fields.clone();
    for (key, value) in &lead.custom_fields {
        custom_fields
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    CustomerFields {
        kind: current.kind,
        name: current.name.clone(),
        legal_name: fill(&current.legal_name, &lead.legal_name),
        industry: fill(&current.industry, &lead.industry),
        company_size: fill(&current.company_size, &lead.company_size),
        website: fill(&current.website, &lead.website),
        address: fill(&current.address, &lead.address),
        tax_id: fill(&current.tax_id, &lead.tax_id),
        gender: fill(&current.gender, &lead.gender),
        birthday: fill(&current.birthday, &lead.birthday),
        phone: fill(&current.phone, &lead.phone),
        email: fill(&current.email, &lead.email),
        status: current.status,
        classification: fill(&current.classification, &lead.classification),
        lead_source: fill(&current.lead_source, &lead.lead_source),
        tags: if current.tags.is_empty() {
            lead.tags.clone()
        } else {
            current.tags.clone()
        },
        external_id: fill(&current.external_id, &lead.external_id),
        custom_fields,
    }
}

/// `current` with every value `lead` has written over it; what the row leaves empty stays.
/// `kind` and `status` are taken only from columns that were present (`given`).
pub fn overwrite(
    current: &CustomerFields,
    lead: &CustomerFields,
    given: &dyn Fn(&str) -> bool,
) -> CustomerFields {
    let mut merged = fill_empty(lead, current);
    if !given("kind") {
        merged.kind = current.kind;
    }
    if !given("status") {
        merged.status = current.status;
    }
    if lead.tags.is_empty() {
        merged.tags = current.tags.clone();
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_and_english_headers_map_by_default() {
        let columns = resolve_columns(
            &headers(&[
                "客户名称",
                "类型",
                "联系人",
                "手机",
                " E-Mail ",
                "Lead Source",
                "x",
            ]),
            &BTreeMap::new(),
            &[],
        );
        assert_eq!(
            columns,
            Ok(vec![
                Some(Target::Customer("name")),
                Some(Target::Customer("kind")),
                Some(Target::Contact("name")),
                Some(Target::Customer("phone")),
                Some(Target::Customer("email")),
                Some(Target::Customer("lead_source")),
                None,
            ])
        );
    }

    #[test]
    fn the_mapping_overrides_and_every_problem_is_listed() {
        let mapping: BTreeMap<String, String> = [
            ("Firma", "name"),
            ("Budget", "cf.budget"),
            ("Ghost", "name"),
            ("Mail", "nonsense"),
            ("Region", "cf.region"),
            ("手机", "ignore"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let got = resolve_columns(
            &headers(&["Firma", "Budget", "Mail", "Region", "手机"]),
            &mapping,
            &["budget".to_string()],
        );
        let codes: Vec<(String, String)> = got
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.pointer, e.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("/mapping/Ghost".to_string(), "unknown_column".to_string()),
                ("/mapping/Mail".to_string(), "unknown_target".to_string()),
                ("/mapping/Region".to_string(), "unknown_field".to_string()),
            ]
        );
        let fine = resolve_columns(
            &headers(&["Firma", "Budget", "手机"]),
            &mapping
                .iter()
                .filter(|(h, _)| ["Firma", "Budget", "手机"].contains(&h.as_str()))
                .map(|(h, f)| (h.clone(), f.clone()))
                .collect(),
            &["budget".to_string()],
        );
        assert_eq!(
            fine,
            Ok(vec![
                Some(Target::Customer("name")),
                Some(Target::Custom("budget".to_string())),
                None
            ])
        );
    }

    #[test]
    fn a_file_without_a_name_column_or_with_two_is_refused() {
        let none = resolve_columns(&headers(&["手机", "邮箱"]), &BTreeMap::new(), &[]);
        assert_eq!(
            none.err()
                .map(|e| e.into_iter().map(|e| e.code).collect::<Vec<_>>()),
            Some(vec!["no_name_column".to_string()])
        );
        let two = resolve_columns(&headers(&["客户名称", "name"]), &BTreeMap::new(), &[]);
        assert_eq!(
            two.err()
                .map(|e| e.into_iter().map(|e| e.pointer).collect::<Vec<_>>()),
            Some(vec!["/mapping/name".to_string()])
        );
    }

    #[test]
    fn kinds_and_sources_are_read_as_spreadsheets_write_them() {
        for (raw, kind) in [
            ("企业", "company"),
            ("B2B", "company"),
            (" Company ", "company"),
            ("个人", "individual"),
            ("b2c", "individual"),
            ("Individual", "individual"),
            ("robot", "robot"),
        ] {
            assert_eq!(kind_word(raw), kind, "{raw}");
        }
        let sources: Vec<(String, String)> = [("website", "Website"), ("trade_show", "Trade show")]
            .into_iter()
            .map(|(k, l)| (k.to_string(), l.to_string()))
            .collect();
        for (raw, key) in [
            ("官网表单", Some("website")),
            ("web form", Some("website")),
            ("Trade Show", Some("trade_show")),
            ("展会", Some("trade_show")),
            ("trade_show", Some("trade_show")),
            ("转介绍", None),
            ("carrier pigeon", None),
        ] {
            assert_eq!(
                lead_source_key(raw, &sources).as_deref(),
                key,
                "{raw}: referral is not active here"
            );
        }
    }

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        for (raw, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+86 138", "'+86 138"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(raw), safe);
        }
    }
}
