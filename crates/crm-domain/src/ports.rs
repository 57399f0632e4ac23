//! Store traits for identity and access, implemented by the persistence crate. Every method runs
//! in one database transaction and blocks; async callers run them on a blocking thread.

use chrono::{DateTime, Utc};

use crate::identity::{
    ApiKey, AuthSubject, Credentials, NewUser, Principal, Scope, Team, TeamDraft, User,
    UserChanges, Visibility,
};
use crate::page::{Page, PageRequest};
use crate::DomainError;

/// Users.
pub trait UserStore: Send + Sync {
    /// How many users exist (first-run setup creates an admin when none does).
    fn count_users(&self) -> Result<i64, DomainError>;
    /// Creates a user; `Conflict` when the email is taken (case-insensitively).
    fn create_user(&self, user: NewUser) -> Result<User, DomainError>;
    /// One user; `NotFound` when absent.
    fn user(&self, id: &str) -> Result<User, DomainError>;
    /// Users in id order.
    fn list_users(&self, page: &PageRequest) -> Result<Page<User>, DomainError>;
    /// Applies `changes`; `PreconditionFailed` when `expected_version` is given and stale. A
    /// password change or deactivation ends every session of the user in the same transaction.
    fn update_user(
        &self,
        id: &str,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> Result<User, DomainError>;
    /// Login data for a normalised email, `None` when no account has it.
    fn credentials(&self, email_normalized: &str) -> Result<Option<Credentials>, DomainError>;
    /// Authentication facts for a user, `None` when the user does not exist: at most a second
    /// old, and never older than a change made through this store.
    fn auth_subject(&self, user_id: &str) -> Result<Option<AuthSubject>, DomainError>;
    /// The facts `auth_subject` would answer from memory, without touching the database (so
    /// without blocking); `None` when it would have to read them.
    fn recent_auth_subject(&self, _user_id: &str) -> Option<AuthSubject> {
        None
    }
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was current: it is now used, and the new one issued in its place.
    Rotated(AuthSubject),
    /// The token had been used before: the whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Refresh-token sessions. Tokens are stored as digests only.
pub trait SessionStore: Send + Sync {
    /// Starts a session (a new token family) for `user_id`.
    fn start_session(
        &self,
        user_id: &str,
        token_digest: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError>;
    /// Rotates the token with `presented_digest` to `new_digest`; a reused token revokes its family.
    fn rotate_session(
        &self,
        presented_digest: &str,
        new_digest: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, DomainError>;
    /// Ends the session of the token; `false` when the token names no live session.
    fn end_session(&self, presented_digest: &str, now: DateTime<Utc>) -> Result<bool, DomainError>;
}

/// A validated request for a new API key (the key itself already generated).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// What the key is for.
    pub name: String,
    /// Its first characters, for listing.
    pub prefix: String,
    /// The key's digest.
    pub digest: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The admin creating it.
    pub created_by: String,
}

/// API keys.
pub trait ApiKeyStore: Send + Sync {
    /// Stores a key.
    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, DomainError>;
    /// Keys in id order, revoked ones included.
    fn list_api_keys(&self, page: &PageRequest) -> Result<Page<ApiKey>, DomainError>;
    /// Revokes a key; `NotFound` when absent or already revoked.
    fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<(), DomainError>;
    /// The live key with this digest, its last use recorded (at most once a minute).
    fn authenticate_api_key(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, DomainError>;
}

/// Teams, and the visibility rule that depends on them.
pub trait TeamStore: Send + Sync {
    /// Creates a team; `Validation` when a user does not exist, `Conflict` when the name is taken.
    fn create_team(&self, team: TeamDraft) -> Result<Team, DomainError>;
    /// One team.
    fn team(&self, id: &str) -> Result<Team, DomainError>;
    /// Teams in id order.
    fn list_teams(&self, page: &PageRequest) -> Result<Page<Team>, DomainError>;
    /// Replaces name, managers and members.
    fn replace_team(
        &self,
        id: &str,
        team: TeamDraft,
        expected_version: Option<i64>,
    ) -> Result<Team, DomainError>;
    /// Deletes a team (its users stay).
    fn delete_team(&self, id: &str) -> Result<(), DomainError>;
    /// Which records `principal` may see.
    fn visibility(&self, principal: &Principal) -> Result<Visibility, DomainError>;
}

/// Which customers to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only those owned by this user.
    pub owner_id: Option<String>,
    /// Only this kind.
    pub kind: Option<crate::customers::CustomerKind>,
    /// Only this status.
    pub status: Option<crate::customers::LifecycleStatus>,
    /// `Some(true)`: only the pool; `Some(false)`: only owned ones.
    pub pool: Option<bool>,
    /// Include soft-deleted customers (admins).
    pub include_deleted: bool,
    /// Text search over name, email, phone and contact names (case-insensitive, substring).
    pub q: Option<String>,
    /// Only this lead source (exact).
    pub lead_source: Option<String>,
    /// Only customers with this tag (case-insensitive).
    pub tag: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// Changed at or after.
    pub updated_after: Option<DateTime<Utc>>,
    /// Changed before.
    pub updated_before: Option<DateTime<Utc>>,
    /// The order; the page position is one [`crate::customers::CustomerSort::encode_position`]
    /// wrote for the same order.
    pub sort: crate::customers::CustomerSort,
    /// Custom field conditions, all of which must hold.
    pub custom: Vec<crate::custom_fields::CustomFilter>,
    /// Order by a custom field instead of `sort`; the page position is one
    /// [`crate::custom_fields::CustomSort::encode_position`] wrote.
    pub custom_sort: Option<crate::custom_fields::CustomSort>,
}

/// Who is acting, for records and audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user or API key id.
    pub id: String,
    /// What the caller may see.
    pub visibility: Visibility,
    /// The user acting, when the request was authenticated as one (which found their account
    /// active); `None` for an API key and for work done later on someone's behalf (an import
    /// job), whose account is looked up where it matters.
    pub user_id: Option<String>,
}

/// How many of each list a customer's overview holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverviewLimits {
    /// Contacts, primary first.
    pub contacts: u32,
    /// Latest activities, and pending follow-ups.
    pub activities: u32,
    /// Open opportunities, latest changed first.
    pub opportunities: u32,
}

/// Everything a customer's 360° view shows, read together.
#[derive(Debug, Clone)]
pub struct CustomerOverviewParts {
    /// The customer.
    pub customer: crate::customers::Customer,
    /// Its live contacts, primary first.
    pub contacts: Vec<crate::customers::Contact>,
    /// Its latest live activities, newest first.
    pub recent_activities: Vec<crate::activities::Activity>,
    /// Its live activities with a pending follow-up, soonest first.
    pub pending_follow_ups: Vec<crate::activities::Activity>,
    /// Its open opportunities, latest changed first.
    pub open_opportunities: Vec<crate::opportunities::Opportunity>,
    /// Every pipeline with its stages (which name the opportunities' stages).
    pub pipelines: Vec<crate::pipelines::Pipeline>,
    /// The behaviours recorded on its live activities.
    pub recorded_behaviors: Vec<crate::scoring::RecordedBehavior>,
    /// The days in which a behaviour's points halve.
    pub half_life_days: u32,
    /// The behaviour catalogue, archived behaviours too.
    pub behaviors: Vec<crate::scoring::Behavior>,
}

/// A change of ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnershipChange {
    /// The caller takes a pool customer; refused when they own `limit` customers already.
    Claim {
        /// The claiming user.
        user_id: String,
        /// Most customers one rep may own through claims.
        limit: i64,
    },
    /// The owner gives the customer back to the pool.
    Release,
    /// A manager or admin gives the customer to a user.
    Assign {
        /// The new owner.
        owner_id: String,
    },
}

/// One entry of a customer's history.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerEvent {
    /// UUIDv7.
    pub id: String,
    /// `created`, `updated`, `deleted`, `claimed`, `released`, `assigned`.
    pub action: String,
    /// Who did it (user or API key id).
    pub actor_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Each changed field with old and new value.
    pub changes: Vec<crate::customers::FieldChange>,
}

/// One lead of a batch write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLead {
    /// The checked customer and first contact.
    pub lead: crate::imports::Lead,
    /// The owner of a new customer (`None`: the pool); must be an active user the actor manages.
    pub owner_id: Option<String>,
    /// What a match does.
    pub on_match: crate::imports::OnMatch,
}

/// What became of one lead of a batch: the outcome and the customer as stored, or the refusal.
pub type BatchOutcome =
    Result<(crate::imports::RowOutcome, crate::customers::Customer), DomainError>;

/// Customers. Every method applies the actor's visibility: a customer they may not see is
/// `NotFound`, exactly like one that does not exist.
pub trait CustomerStore: Send + Sync {
    /// Creates a customer owned by `owner_id` (`None`: the pool). Unless `allow_duplicate`, a
    /// customer with the same normalised phone or email is a `Conflict` (`duplicate_customer`),
    /// naming the existing id only when the actor can see it.
    fn create_customer(
        &self,
        actor: &Actor,
        fields: crate::customers::CustomerFields,
        owner_id: Option<String>,
        allow_duplicate: bool,
    ) -> Result<crate::customers::Customer, DomainError>;
    /// Creates a customer as `create_customer` does, with its first contact (the primary one)
    /// in the same transaction; the duplicate check covers the contact's phones and email too.
    fn create_customer_with_contact(
        &self,
        actor: &Actor,
        fields: crate::customers::CustomerFields,
        contact: crate::customers::ContactFields,
        owner_id: Option<String>,
        allow_duplicate: bool,
    ) -> Result<(crate::customers::Customer, crate::customers::Contact), DomainError>;
    /// One visible customer.
    fn customer(&self, actor: &Actor, id: &str) -> Result<crate::customers::Customer, DomainError>;
    /// Visible customers in id order.
    fn list_customers(
        &self,
        actor: &Actor,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::customers::Customer>, DomainError>;
    /// Replaces the written fields, recording each change.
    fn update_customer(
        &self,
        actor: &Actor,
        id: &str,
        fields: crate::customers::CustomerFields,
        expected_version: Option<i64>,
    ) -> Result<crate::customers::Customer, DomainError>;
    /// Soft-deletes a customer.
    fn delete_customer(&self, actor: &Actor, id: &str) -> Result<(), DomainError>;
    /// Brings a soft-deleted customer back; `Conflict` (`not_deleted`) when it is live.
    fn restore_customer(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<crate::customers::Customer, DomainError>;
    /// Claims, releases or assigns, recording the change.
    fn change_owner(
        &self,
        actor: &Actor,
        id: &str,
        change: OwnershipChange,
    ) -> Result<crate::customers::Customer, DomainError>;
    /// Everything a visible customer's 360° view shows, read together on one connection (on
    /// SQLite in one transaction, so from one snapshot), each list cut at its limit.
    fn customer_overview(
        &self,
        actor: &Actor,
        id: &str,
        limits: OverviewLimits,
    ) -> Result<CustomerOverviewParts, DomainError>;
    /// Writes a batch of leads, each in its own savepoint: matched on `match_on` and handled as
    /// its `on_match` says (`Refuse`: a `Duplicate` naming the match when visible). Each item's
    /// outcome and customer as stored, or why it was refused. With `all_or_nothing`, one refusal
    /// rolls every item back and the list says which failed.
    fn write_leads(
        &self,
        actor: &Actor,
        items: Vec<BatchLead>,
        match_on: &[crate::imports::MatchKey],
        all_or_nothing: bool,
    ) -> Result<Vec<BatchOutcome>, DomainError>;
    /// Merges `duplicate_ids` into `survivor_id` (all visible, else `NotFound`): the survivor
    /// keeps the fields [`crate::merges::merged_fields`] gives, the duplicates' contacts,
    /// activities and opportunities move to it, the duplicates are soft-deleted, and the merge is
    /// recorded. A dry run writes nothing and answers what would happen.
    fn merge_customers(
        &self,
        actor: &Actor,
        survivor_id: &str,
        duplicate_ids: &[String],
        choices: &std::collections::BTreeMap<String, String>,
        dry_run: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::merges::Merge, DomainError>;
    /// A recorded merge whose survivor the actor may see.
    fn customer_merge(&self, actor: &Actor, id: &str) -> Result<crate::merges::Merge, DomainError>;
    /// Undoes a merge within [`crate::merges::UNDO_DAYS`]: the duplicates come back with what
    /// moved from them, the survivor gets its fields back. `Conflict` when already undone
    /// (`already_undone`), too old (`undo_expired`) or the survivor changed since
    /// (`survivor_changed`).
    fn undo_merge(
        &self,
        actor: &Actor,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::merges::Merge, DomainError>;
    /// The customer's history, newest first.
    fn customer_history(
        &self,
        actor: &Actor,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<CustomerEvent>, DomainError>;
}

/// A stored response, replayed for a retried request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers worth replaying (`Location`, `ETag`, `Content-Type`), as name/value pairs.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

/// What starting a request under an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// First use of the key: go ahead, then `complete` or `abandon` it.
    Started,
    /// Already answered: replay this.
    Replay(StoredResponse),
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Idempotency keys, scoped to a caller and kept at least 24 hours.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with `request_hash`, or reports what an earlier use left.
    fn start(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, DomainError>;
    /// Stores the response of a started request.
    fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), DomainError>;
    /// Forgets a started request that failed in a way a retry may fix (a 5xx).
    fn abandon(&self, scope: &str, key: &str) -> Result<(), DomainError>;
}

/// Which contacts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFilter {
    /// Only contacts of this customer (`NotFound` when the caller may not see it).
    pub customer_id: Option<String>,
    /// Part of the name, case-insensitive.
    pub q: Option<String>,
    /// This normalised (lower-case) email.
    pub email: Option<String>,
    /// This phone in E.164.
    pub phone: Option<String>,
    /// Custom field conditions, all of which must hold.
    pub custom: Vec<crate::custom_fields::CustomFilter>,
}

/// Contacts, always reached through their customer's visibility.
pub trait ContactStore: Send + Sync {
    /// Adds a contact; the first one, or one with `primary`, becomes the primary contact.
    /// `Duplicate` when another customer already has one of its phones or its email (as its own
    /// or a contact's), unless `allow_duplicate`.
    fn create_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        fields: crate::customers::ContactFields,
        primary: bool,
        allow_duplicate: bool,
    ) -> Result<crate::customers::Contact, DomainError>;
    /// One contact of a visible customer.
    fn contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
    ) -> Result<crate::customers::Contact, DomainError>;
    /// Live contacts of visible customers matching `filter`, in id order.
    fn list_contacts(
        &self,
        actor: &Actor,
        filter: &ContactFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::customers::Contact>, DomainError>;
    /// Replaces a contact's fields; `primary: Some(true)` makes it the primary contact.
    /// `Duplicate` when a changed phone or email belongs to another customer.
    fn update_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
        fields: crate::customers::ContactFields,
        primary: Option<bool>,
        expected_version: Option<i64>,
    ) -> Result<crate::customers::Contact, DomainError>;
    /// Removes a contact; removing the primary makes the oldest remaining one primary.
    fn delete_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
    ) -> Result<(), DomainError>;
}

/// The admin-maintained list of lead sources.
pub trait LeadSourceStore: Send + Sync {
    /// Every lead source (archived ones too when asked), by position then key.
    fn lead_sources(
        &self,
        include_archived: bool,
    ) -> Result<Vec<crate::lead_sources::LeadSource>, DomainError>;
    /// Adds one; `Conflict` (`lead_source_exists`) when the key is taken.
    fn create_lead_source(
        &self,
        draft: crate::lead_sources::LeadSourceDraft,
    ) -> Result<crate::lead_sources::LeadSource, DomainError>;
    /// Changes the label, position or archived flag.
    fn update_lead_source(
        &self,
        key: &str,
        changes: crate::lead_sources::LeadSourceChanges,
        expected_version: Option<i64>,
    ) -> Result<crate::lead_sources::LeadSource, DomainError>;
}

/// The behaviour catalogue, the scoring settings and customers' scores.
pub trait ScoringStore: Send + Sync {
    /// Every behaviour (archived ones too when asked), by code.
    fn behaviors(
        &self,
        include_archived: bool,
    ) -> Result<Vec<crate::scoring::Behavior>, DomainError>;
    /// Adds one; `Conflict` (`behavior_exists`) when the code is taken.
    fn create_behavior(
        &self,
        draft: crate::scoring::BehaviorDraft,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::scoring::Behavior, DomainError>;
    /// Changes the label, description, points or archived flag.
    fn update_behavior(
        &self,
        code: &str,
        changes: crate::scoring::BehaviorChanges,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::scoring::Behavior, DomainError>;
    /// How scores decay.
    fn scoring_settings(&self) -> Result<crate::scoring::ScoringSettings, DomainError>;
    /// Sets the half-life; stored scores follow at the next [`ScoringStore::refresh_scores`].
    fn update_scoring_settings(
        &self,
        half_life_days: u32,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::scoring::ScoringSettings, DomainError>;
    /// The behaviours recorded on a visible customer's live activities, with the half-life.
    fn customer_behaviors(
        &self,
        actor: &Actor,
        customer_id: &str,
    ) -> Result<(Vec<crate::scoring::RecordedBehavior>, u32), DomainError>;
    /// Recomputes every stored score at `now` when it is due: once per UTC day and after the
    /// half-life changed. `Some(customers recomputed)` when it ran.
    fn refresh_scores(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<u64>, DomainError>;
}

/// Sales pipelines and their stages. Every change moves the pipeline's version; checklist items
/// without an id get one.
pub trait PipelineStore: Send + Sync {
    /// Every pipeline with its stages, the default first, then by name.
    fn pipelines(&self) -> Result<Vec<crate::pipelines::Pipeline>, DomainError>;
    /// One pipeline.
    fn pipeline(&self, id: &str) -> Result<crate::pipelines::Pipeline, DomainError>;
    /// Adds a pipeline with its stages in order; `Conflict` (`pipeline_exists`) when the name
    /// is taken.
    fn create_pipeline(
        &self,
        name: String,
        stages: Vec<crate::pipelines::StageFields>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::pipelines::Pipeline, DomainError>;
    /// Renames a pipeline and/or makes it the default (the former default stops being one).
    fn update_pipeline(
        &self,
        id: &str,
        name: Option<String>,
        make_default: bool,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::pipelines::Pipeline, DomainError>;
    /// Adds a stage at `position` (default: last; later stages move down).
    fn add_stage(
        &self,
        pipeline_id: &str,
        stage: crate::pipelines::StageFields,
        position: Option<i64>,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::pipelines::Pipeline, DomainError>;
    /// Replaces a stage's fields. `Validation` when a checklist item names an id the stage does
    /// not have; `Conflict` (`stage_kinds`) when the pipeline would lose its last open, won or
    /// lost stage.
    fn update_stage(
        &self,
        pipeline_id: &str,
        stage_id: &str,
        stage: crate::pipelines::StageFields,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::pipelines::Pipeline, DomainError>;
    /// Removes a stage. Its opportunities move to `move_to` (another stage of the pipeline),
    /// each move recorded as by `actor_id`; `Conflict` (`stage_not_empty`) when it holds
    /// opportunities and `move_to` is `None`, (`stage_kinds`) when the pipeline would lose its
    /// last open, won or lost stage; `Validation` (`/query/move_to`) for a `move_to` outside the
    /// pipeline or the stage itself.
    fn delete_stage(
        &self,
        pipeline_id: &str,
        stage_id: &str,
        move_to: Option<&str>,
        actor_id: &str,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::pipelines::Pipeline, DomainError>;
    /// Puts the stages in the order of `stage_ids`, which must name each stage once.
    fn reorder_stages(
        &self,
        pipeline_id: &str,
        stage_ids: &[String],
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::pipelines::Pipeline, DomainError>;
}

/// Which opportunities to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityFilter {
    /// Only this pipeline's.
    pub pipeline_id: Option<String>,
    /// Only those in this stage.
    pub stage_id: Option<String>,
    /// Only this owner's.
    pub owner_id: Option<String>,
    /// Only this customer's.
    pub customer_id: Option<String>,
    /// Only open, won or lost ones.
    pub status: Option<crate::opportunities::OpportunityStatus>,
    /// Amount at least (minor units).
    pub amount_min: Option<i64>,
    /// Amount at most (minor units).
    pub amount_max: Option<i64>,
    /// Expected to close on or after.
    pub close_from: Option<chrono::NaiveDate>,
    /// Expected to close on or before.
    pub close_to: Option<chrono::NaiveDate>,
    /// Custom field conditions, all of which must hold.
    pub custom: Vec<crate::custom_fields::CustomFilter>,
}

/// Opportunities, reached through their customers: a customer the caller may not see hides its
/// opportunities too.
pub trait OpportunityStore: Send + Sync {
    /// Opens an opportunity owned by `actor` on a visible customer, recording its first stage.
    /// `Validation` for a stage of another pipeline, bad lines or a manual amount beside lines.
    fn create_opportunity(
        &self,
        actor: &Actor,
        draft: crate::opportunities::OpportunityDraft,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::opportunities::Opportunity, DomainError>;
    /// One opportunity of a visible customer, with the ticked items of its current stage.
    fn opportunity(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(crate::opportunities::Opportunity, Vec<String>), DomainError>;
    /// Opportunities matching `filter`, in `sort` order.
    fn list_opportunities(
        &self,
        actor: &Actor,
        filter: &OpportunityFilter,
        sort: crate::opportunities::OpportunitySort,
        page: &PageRequest,
    ) -> Result<Page<crate::opportunities::Opportunity>, DomainError>;
    /// Applies `changes`.
    fn update_opportunity(
        &self,
        actor: &Actor,
        id: &str,
        changes: crate::opportunities::OpportunityChanges,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(crate::opportunities::Opportunity, Vec<String>), DomainError>;
    /// Moves an opportunity to another stage of its pipeline and records the change. Forward
    /// past unticked required items is `Validation` listing them unless overridden; won and
    /// lost close it, an open stage reopens it.
    fn change_stage(
        &self,
        actor: &Actor,
        id: &str,
        change: crate::opportunities::StageMove,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<
        (
            crate::opportunities::Opportunity,
            crate::opportunities::StageChange,
        ),
        DomainError,
    >;
    /// Its stage changes, oldest first.
    fn stage_history(
        &self,
        actor: &Actor,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<crate::opportunities::StageChange>, DomainError>;
}

/// Which products to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only active (`true`) or inactive (`false`) ones.
    pub active: Option<bool>,
    /// Only prices in this currency.
    pub currency: Option<String>,
    /// SKU or name containing this text, regardless of case.
    pub text: Option<String>,
}

/// The product catalogue.
pub trait ProductStore: Send + Sync {
    /// Products matching `filter`, by SKU (regardless of case).
    fn products(
        &self,
        filter: &ProductFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::products::Product>, DomainError>;
    /// One product.
    fn product(&self, id: &str) -> Result<crate::products::Product, DomainError>;
    /// Adds one; `Conflict` (`sku_exists`) when another product has the SKU in any case.
    fn create_product(
        &self,
        fields: crate::products::ProductFields,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::products::Product, DomainError>;
    /// Replaces a product's fields; `Conflict` (`sku_exists`) as on create.
    fn update_product(
        &self,
        id: &str,
        fields: crate::products::ProductFields,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::products::Product, DomainError>;
}

/// Custom field definitions.
pub trait CustomFieldStore: Send + Sync {
    /// The definitions of `entity` (archived ones when asked), by position then key.
    fn field_definitions(
        &self,
        entity: crate::custom_fields::FieldEntity,
        include_archived: bool,
    ) -> Result<Vec<crate::custom_fields::FieldDefinition>, DomainError>;
    /// The live (not archived) definitions of each of `entities`, read together (one statement
    /// where a record and its first contact are checked at once), by entity in the order given,
    /// then position, then key.
    fn live_definitions(
        &self,
        entities: &[crate::custom_fields::FieldEntity],
    ) -> Result<Vec<crate::custom_fields::FieldDefinition>, DomainError>;
    /// One definition.
    fn field_definition(
        &self,
        id: &str,
    ) -> Result<crate::custom_fields::FieldDefinition, DomainError>;
    /// Adds a definition; `Conflict` (`custom_field_exists`) when the entity has the key.
    fn create_field(
        &self,
        draft: crate::custom_fields::FieldDraft,
    ) -> Result<crate::custom_fields::FieldDefinition, DomainError>;
    /// Replaces a definition (its entity and key never change) and sets its archived flag.
    /// `Conflict` (`values_violate_change`) with the count when stored values would not satisfy
    /// the new type or rules.
    fn update_field(
        &self,
        id: &str,
        draft: crate::custom_fields::FieldDraft,
        archived: bool,
        expected_version: Option<i64>,
    ) -> Result<crate::custom_fields::FieldDefinition, DomainError>;
}

/// Which activities a list holds; all of them are of customers the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Only those about this opportunity.
    pub opportunity_id: Option<String>,
    /// Only this customer's (`NotFound` when the caller may not see it).
    pub customer_id: Option<String>,
    /// Only by this author.
    pub author_id: Option<String>,
    /// Only of this kind.
    pub kind: Option<crate::activities::ActivityKind>,
    /// Only those that happened at or after this instant.
    pub occurred_after: Option<chrono::DateTime<chrono::Utc>>,
    /// Only those that happened before this instant.
    pub occurred_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Custom field conditions, all of which must hold.
    pub custom: Vec<crate::custom_fields::CustomFilter>,
}

/// Which open follow-ups a reminder list holds; all of them on customers the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUpFilter {
    /// Only those scheduled by this user or key.
    pub owner_id: Option<String>,
    /// Only those due at or after this instant.
    pub due_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only those due before this instant.
    pub due_before: Option<chrono::DateTime<chrono::Utc>>,
}

/// An open follow-up with what a reminder shows of its customer.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpEntry {
    /// The activity that scheduled it.
    pub activity: crate::activities::Activity,
    /// The customer's name.
    pub customer_name: String,
    /// The customer's score.
    pub customer_score: i64,
}

/// Activities, reached through their customer's visibility. Every write keeps the customer's
/// `last_activity_at` (latest live activity) and `next_follow_up_at` (earliest open follow-up)
/// right in the same transaction.
pub trait ActivityStore: Send + Sync {
    /// Logs an activity on a visible customer, authored by `actor`, with the follow-up it
    /// schedules; `answers` names an activity of the same customer whose open follow-up this one
    /// completes. `Validation` when the contact is not the customer's, `answers` names no open
    /// follow-up of the customer or a behaviour is unknown or archived. Every write recomputes
    /// the customer's score at `now` in its transaction.
    fn create_activity(
        &self,
        actor: &Actor,
        customer_id: &str,
        fields: crate::activities::ActivityFields,
        follow_up: Option<crate::activities::FollowUpPlan>,
        answers: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::activities::Activity, DomainError>;
    /// One live activity of a visible customer.
    fn activity(&self, actor: &Actor, id: &str)
        -> Result<crate::activities::Activity, DomainError>;
    /// Live activities matching `filter`, newest first (by `occurred_at`, then id).
    fn list_activities(
        &self,
        actor: &Actor,
        filter: &ActivityFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::activities::Activity>, DomainError>;
    /// Replaces an activity's fields and applies `follow_up`.
    fn update_activity(
        &self,
        actor: &Actor,
        id: &str,
        fields: crate::activities::ActivityFields,
        follow_up: crate::activities::FollowUpChange,
        expected_version: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::activities::Activity, DomainError>;
    /// Removes an activity (soft delete) with its follow-up; the customer's score is recomputed
    /// at `now`.
    fn delete_activity(
        &self,
        actor: &Actor,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DomainError>;
    /// Open follow-ups matching `filter`, soonest first; at the same due time, the customer with
    /// the higher score first.
    fn follow_ups(
        &self,
        actor: &Actor,
        filter: &FollowUpFilter,
        page: &PageRequest,
    ) -> Result<Page<FollowUpEntry>, DomainError>;
}

/// Each user's private calendar feed of follow-ups, reached by a token stored as a digest.
pub trait CalendarFeedStore: Send + Sync {
    /// Issues the user's feed token (its digest), replacing (revoking) any earlier one.
    fn set_calendar_feed(
        &self,
        user_id: &str,
        token_digest: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DomainError>;
    /// Revokes the user's feed; `false` when there was none.
    fn remove_calendar_feed(&self, user_id: &str) -> Result<bool, DomainError>;
    /// The user whose feed token has this digest.
    fn calendar_feed_user(&self, token_digest: &str) -> Result<Option<String>, DomainError>;
}

/// An event for other systems, recorded with the change that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// UUIDv7, in the order events were recorded.
    pub id: String,
    /// E.g. `follow_up.due`.
    pub event_type: String,
    /// The record it is about.
    pub subject_id: String,
    /// What subscribers receive.
    pub payload: serde_json::Value,
    /// When recorded.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The outbox: events waiting for delivery, and the jobs that record them.
pub trait OutboxStore: Send + Sync {
    /// Records a `follow_up.due` event for each open follow-up due by `now` whose event was not
    /// yet emitted for its current due time (at most `limit`), and marks them; returns how many.
    fn emit_due_follow_ups(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<usize, DomainError>;
    /// Undelivered events after `after` (an event id), oldest first.
    fn pending_events(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, DomainError>;
}

/// One row handed to [`ImportStore::apply_import_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based data row.
    pub row: i64,
    /// The valid lead, or every problem of the row.
    pub lead: Result<crate::imports::Lead, Vec<crate::imports::RowError>>,
    /// In a dry run, the earlier row of the same file this one matches (nothing was written,
    /// so the database cannot say).
    pub file_match: Option<i64>,
}

/// Lead import jobs: their uploads, progress and per-row results.
pub trait ImportStore: Send + Sync {
    /// Records a job whose upload is about to be stored (invisible to lists until queued).
    fn create_import(
        &self,
        created_by: &str,
        settings: &crate::imports::ImportSettings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::imports::ImportJob, DomainError>;
    /// Stores part `seq` (0, 1, …) of the job's upload.
    fn append_upload(&self, id: &str, seq: i64, data: &[u8]) -> Result<(), DomainError>;
    /// Part `seq` of the upload; `None` after the last.
    fn upload_part(&self, id: &str, seq: i64) -> Result<Option<Vec<u8>>, DomainError>;
    /// The upload is complete: the job is queued with its size and encoding.
    fn queue_import(
        &self,
        id: &str,
        size_bytes: i64,
        encoding: &str,
    ) -> Result<crate::imports::ImportJob, DomainError>;
    /// Removes a job whose upload was refused, with everything stored for it.
    fn discard_import(&self, id: &str) -> Result<(), DomainError>;
    /// The job, when `actor` uploaded it or may see records of whoever did.
    fn import_job(&self, actor: &Actor, id: &str)
        -> Result<crate::imports::ImportJob, DomainError>;
    /// Jobs to run: queued ones and those a stop interrupted, oldest first. Jobs whose upload
    /// never completed are failed (`interrupted_upload`) on the way.
    fn unfinished_imports(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::imports::ImportJob>, DomainError>;
    /// Marks the job running (keeping its progress, when resumed).
    fn start_import(
        &self,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::imports::ImportJob, DomainError>;
    /// How many rows one call of [`ImportStore::apply_import_rows`] should take: what one
    /// transaction of the backend commits best without holding up other writers for long.
    fn rows_per_batch(&self) -> usize {
        500
    }
    /// Processes the next rows of a job in one transaction: matches each lead, creates or
    /// updates customers as the job says (nothing in a dry run), stores each row's result and
    /// moves the job's progress past them. Rows already processed are left alone, so a resumed
    /// job never writes a row twice.
    fn apply_import_rows(
        &self,
        job: &crate::imports::ImportJob,
        actor: &Actor,
        rows: Vec<ImportRow>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::imports::RowResult>, DomainError>;
    /// Ends the job (completed, or failed with `error`) and drops its upload.
    fn finish_import(
        &self,
        id: &str,
        total_rows: i64,
        error: Option<crate::imports::JobError>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::imports::ImportJob, DomainError>;
    /// The job's row results in row order, after row `page.after`, optionally of one outcome.
    fn import_results(
        &self,
        id: &str,
        outcome: Option<crate::imports::RowOutcome>,
        page: &PageRequest,
    ) -> Result<Page<crate::imports::RowResult>, DomainError>;
}
