//! One error type for every service, and one table of the stable codes the
//! APIs answer with: each code's HTTP kind and what its user is told. App
//! developers switch on these codes; each API document lists them.

use sea_orm::DbErr;

/// How a failure is answered: the HTTP status each API gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 400: the request could not be read.
    BadRequest,
    /// 401: no valid credentials.
    Unauthorized,
    /// 403: known, but not allowed (yet).
    Forbidden,
    /// 404: no such record in the caller's scope.
    NotFound,
    /// 409: clashes with the current state.
    Conflict,
    /// 405: the path has no such method.
    MethodNotAllowed,
    /// 406: no answer of an accepted media type.
    NotAcceptable,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: an upload of a type not taken.
    UnsupportedMediaType,
    /// 422: understood, but breaks a rule.
    Unprocessable,
    /// 429: too many attempts.
    TooManyRequests,
    /// 500: our failure.
    Internal,
    /// 503: a service we need is down.
    Unavailable,
}

impl Kind {
    /// The HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::NotAcceptable => 406,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Unprocessable => 422,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $name:literal, $kind:ident, $message:literal;)*) => {
        /// A stable error code: what an app switches on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $message] $variant,)*
        }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// Its stable snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// How it is answered.
            pub fn kind(self) -> Kind {
                match self { $(Code::$variant => Kind::$kind,)* }
            }

            /// What its user is told when nothing more specific is said.
            pub fn message(self) -> &'static str {
                match self { $(Code::$variant => $message,)* }
            }
        }
    };
}

codes! {
    NotFound = "not_found", NotFound, "There is no such record, or it is not yours to see.";
    Forbidden = "forbidden", Forbidden, "Your security level does not allow this; a manager can approve it for you.";
    BadRequest = "bad_request", BadRequest, "The request could not be read.";
    MethodNotAllowed = "method_not_allowed", MethodNotAllowed, "This path does not take that method; the Allow header lists those it takes.";
    NotAcceptable = "not_acceptable", NotAcceptable, "There is no answer of a media type the request accepts.";
    Conflict = "conflict", Conflict, "The request clashes with the current state.";
    Unprocessable = "unprocessable", Unprocessable, "The request breaks a rule.";
    TooManyRequests = "too_many_requests", TooManyRequests, "Too many requests; slow down.";
    InvalidType = "invalid_type", BadRequest, "A value in the request is of the wrong type.";
    InvalidFrame = "invalid_frame", BadRequest, "A chat frame is not a JSON object of a known type.";
    UnsupportedVersion = "unsupported_version", BadRequest, "This server speaks chat protocol version 1.";
    PayloadTooLarge = "payload_too_large", PayloadTooLarge, "The request body is larger than this endpoint takes.";
    Internal = "internal_error", Internal, "Something failed on our side; the request id finds it in our logs.";
    Unauthorized = "unauthorized", Unauthorized, "Sign in first.";
    InvalidCredentials = "invalid_credentials", Unauthorized, "These details don't match an active account.";
    AccountDisabled = "account_disabled", Unauthorized, "The practice has deactivated this app account.";
    InvalidAccessToken = "invalid_access_token", Unauthorized, "The access token is not valid.";
    AccessTokenExpired = "access_token_expired", Unauthorized, "The access token has expired: refresh it.";
    InvalidRefreshToken = "invalid_refresh_token", Unauthorized, "The refresh token is not valid; sign in again.";
    RefreshTokenReused = "refresh_token_reused", Unauthorized, "This refresh token was used before, so the login ended; sign in again.";
    SessionInvalid = "session_invalid", Unauthorized, "The session has ended; sign in again.";
    InvalidCode = "invalid_code", Unauthorized, "That code is not right, or the login took too long.";
    InvalidSyncKey = "invalid_sync_key", Unauthorized, "The sync key is not valid or was revoked.";
    TicketInvalid = "ticket_invalid", Unauthorized, "The socket ticket is not valid; ask for a new one.";
    InvalidWebhook = "invalid_webhook", BadRequest, "The webhook lacks fields its provider always sends.";
    UnsignedWebhook = "unsigned_webhook", Unauthorized, "The webhook's signature is missing, does not match, or is more than five minutes old.";
    InvalidSignature = "invalid_signature", Forbidden, "The webhook's signature does not match.";
    TwoFactorSetupRequired = "two_factor_setup_required", Forbidden, "This practice requires two-factor login for administrators: set it up first.";
    PaymentGatewayUnavailable = "payment_gateway_unavailable", Unavailable, "The payment gateway did not answer; the charge is retried with the same key, never taken twice.";
    NotReady = "not_ready", Unavailable, "A service this server needs is unreachable.";
    EmailNotVerified = "email_not_verified", Forbidden, "Confirm your email address first: open the link we emailed you.";
    OverrideRefused = "override_refused", Forbidden, "Not approved: the approver's details are wrong, or their level does not allow this.";
    CsrfFailed = "csrf_failed", Forbidden, "The page's form token is missing or stale; reload the page.";
    OriginNotAllowed = "origin_not_allowed", Forbidden, "Only this site's pages may open this socket.";
    AccountExists = "account_exists", Conflict, "An account with this email already exists.";
    AlreadyAppUser = "already_app_user", Conflict, "That email already belongs to an app user.";
    AlreadyDecided = "already_decided", Conflict, "This request was decided already.";
    AlreadyReversed = "already_reversed", Conflict, "This paw was taken back already.";
    AlreadyVerified = "already_verified", Conflict, "This email address is verified already.";
    CannotCancel = "cannot_cancel", Conflict, "This request is settled and can no longer be cancelled.";
    CannotDeleteYourself = "cannot_delete_yourself", Conflict, "You cannot delete your own account.";
    CannotLockYourself = "cannot_lock_yourself", Conflict, "You cannot lock your own account.";
    IdInUse = "id_in_use", Conflict, "That id is taken by another record.";
    LastAdministrator = "last_administrator", Conflict, "The practice must keep an administrator: make another administrator first.";
    ManagedByPractice = "managed_by_practice", Conflict, "The practice manages this record.";
    NoAppAccount = "no_app_account", Conflict, "This client has no app account.";
    NotEnoughPaws = "not_enough_paws", Conflict, "There are not enough paws on the card.";
    PawsAlreadySpent = "paws_already_spent", Conflict, "These paws were spent already.";
    PracticeCodeTaken = "practice_code_taken", Conflict, "That practice code is taken.";
    PlanCodeTaken = "plan_code_taken", Conflict, "Another plan template of the practice has that code.";
    PlanInProgress = "plan_in_progress", Conflict, "The pet has a plan in progress already.";
    PlanCancelled = "plan_cancelled", Conflict, "The plan is cancelled: it is read-only.";
    PlanOnHold = "plan_on_hold", Conflict, "The plan is on hold already.";
    PlanNotOnHold = "plan_not_on_hold", Conflict, "The plan is not on hold.";
    PlanEnded = "plan_ended", Conflict, "The plan's term is over.";
    RenewalExists = "renewal_exists", Conflict, "The plan has a renewal already: configure that one.";
    RenewalHasPayment = "renewal_has_payment", Conflict, "The renewal has a payment already: change it as a plan instead.";
    NotPending = "not_pending", Conflict, "The plan has started already.";
    PaymentNotChargeable = "payment_not_chargeable", Conflict, "Only a payment that is scheduled, failed or past due can be charged, and one is being charged already.";
    PaymentNotOwed = "payment_not_owed", Conflict, "Only a payment still owed (scheduled, failed or past due) is replaced.";
    AgreementSigned = "agreement_signed", Conflict, "This agreement is signed already.";
    AgreementSuperseded = "agreement_superseded", Conflict, "A newer agreement replaces this one: sign that one.";
    ReinviteAlreadySent = "reinvite_already_sent", Conflict, "Reinvite All was sent this month already.";
    SmsNumberTaken = "sms_number_taken", Conflict, "Another practice texts from that number.";
    TooManySelfies = "too_many_selfies", Conflict, "The household has as many selfies as it may keep; delete some first.";
    TwoFactorAlreadyEnabled = "two_factor_already_enabled", Conflict, "Two-factor login is on already.";
    TwoFactorNotStarted = "two_factor_not_started", Conflict, "Start two-factor enrolment first.";
    UsernameTaken = "username_taken", Conflict, "That user name is taken.";
    UnsupportedMediaType = "unsupported_media_type", UnsupportedMediaType, "The upload is not a JPEG, PNG or WebP picture.";
    TooManyAttempts = "too_many_attempts", TooManyRequests, "Too many attempts from this address; wait a minute.";
    TooManyLoginAttempts = "too_many_login_attempts", TooManyRequests, "Too many login attempts from this address; wait a minute.";
    ControlCharacters = "control_characters", Unprocessable, "Text may not hold control characters.";
    StackedMarks = "stacked_marks", Unprocessable, "Text may not stack that many combining marks on one letter.";
    ConversationRequired = "conversation_required", Unprocessable, "Name the conversation.";
    FieldTooLong = "field_too_long", Unprocessable, "A field is longer than it may be.";
    DuplicateItemCode = "duplicate_item_code", Unprocessable, "Each item code stands once in a plan template.";
    InvalidBody = "invalid_body", Unprocessable, "The text is empty or too long.";
    InvalidAgeBand = "invalid_age_band", Unprocessable, "Ages are whole months from 0 to 360, the oldest not below the youngest.";
    InvalidAgreement = "invalid_agreement", Unprocessable, "An agreement has 1 to 20,000 characters.";
    InvalidChannel = "invalid_channel", Unprocessable, "There is no such delivery channel.";
    InvalidClientMessageId = "invalid_client_message_id", Unprocessable, "A client message id has 1 to 100 characters.";
    InvalidCursor = "invalid_cursor", Unprocessable, "The paging cursor is not one this server gave.";
    InvalidDescription = "invalid_description", Unprocessable, "A description has 1 to 200 characters.";
    InvalidDetails = "invalid_details", Unprocessable, "The details are empty or too long.";
    InvalidDeviceKind = "invalid_device_kind", Unprocessable, "A device kind is fcm_token or fid.";
    InvalidDeviceToken = "invalid_device_token", Unprocessable, "A device token has 1 to 4096 characters.";
    InvalidDisplayName = "invalid_display_name", Unprocessable, "A display name has 1 to 100 characters.";
    InvalidDiscount = "invalid_discount", Unprocessable, "A discount is 0 to 100 percent.";
    InvalidEmail = "invalid_email", Unprocessable, "That is not an email address.";
    InvalidGoal = "invalid_goal", Unprocessable, "A goal is a number of plan points from 0.";
    InvalidImageUrl = "invalid_image_url", Unprocessable, "A notification's picture is an https URL.";
    InvalidItemCode = "invalid_item_code", Unprocessable, "An item code is WP and 1 to 18 more letters, digits, dots or dashes.";
    InvalidItems = "invalid_items", Unprocessable, "A plan template has 1 to 100 items.";
    InvalidLevel = "invalid_level", Unprocessable, "A security level is staff, manager or administrator.";
    InvalidLimit = "invalid_limit", Unprocessable, "A page holds 1 to 200 items.";
    InvalidMessage = "invalid_message", Unprocessable, "A message has 1 to 4,000 characters, or a picture.";
    InvalidName = "invalid_name", Unprocessable, "A name is empty or too long.";
    InvalidNote = "invalid_note", Unprocessable, "A note is too long.";
    InvalidNotes = "invalid_notes", Unprocessable, "The notes are too long.";
    InvalidNotification = "invalid_notification", Unprocessable, "A notification has a title of 1 to 120 characters and a text of 1 to 2,000.";
    InvalidPaws = "invalid_paws", Unprocessable, "A number of paws from 1.";
    InvalidPeriod = "invalid_period", Unprocessable, "A period is a month, written YYYY-MM.";
    InvalidPhone = "invalid_phone", Unprocessable, "That is not a phone number.";
    InvalidPlanCode = "invalid_plan_code", Unprocessable, "A plan template's code has 1 to 20 letters, digits or dashes.";
    InvalidPlatform = "invalid_platform", Unprocessable, "A platform is ios or android.";
    InvalidPmsId = "invalid_pms_id", Unprocessable, "A PMS id has 1 to 64 characters.";
    InvalidPreferredTimes = "invalid_preferred_times", Unprocessable, "The preferred times are not valid.";
    InvalidPrice = "invalid_price", Unprocessable, "A price is a number of cents from 0 to 10,000,000.";
    InvalidPurpose = "invalid_purpose", Unprocessable, "There is no such delivery purpose.";
    InvalidQuantity = "invalid_quantity", Unprocessable, "A quantity is a whole number.";
    InvalidReason = "invalid_reason", Unprocessable, "The reason is too long.";
    InvalidRecord = "invalid_record", Unprocessable, "The record breaks a rule.";
    InvalidStatus = "invalid_status", Unprocessable, "There is no such status.";
    InvalidStorageKey = "invalid_storage_key", Unprocessable, "That is not a stored file's key.";
    InvalidStartDate = "invalid_start_date", Unprocessable, "A plan starts today or within the next 90 days.";
    InvalidTerm = "invalid_term", Unprocessable, "A term is 1 to 60 months.";
    InvalidTimeZone = "invalid_time_zone", Unprocessable, "That is not an IANA time zone.";
    InvalidTitle = "invalid_title", Unprocessable, "A title is empty or too long.";
    InvalidToken = "invalid_token", Unprocessable, "This link is not valid or has expired; ask for a new one.";
    InvalidTotal = "invalid_total", Unprocessable, "An invoice total is a number of cents.";
    InvalidUsername = "invalid_username", Unprocessable, "A user name has 3 to 64 letters, digits, '.', '_' or '-'.";
    MissingCode = "missing_code", Unprocessable, "An invoice line needs its item code.";
    MissingName = "missing_name", Unprocessable, "Give a first or last name.";
    MissingService = "missing_service", Unprocessable, "A reminder needs its service.";
    NotAnEarnedPaw = "not_an_earned_paw", Unprocessable, "Only a paw that was given can be taken back.";
    NoteTooLong = "note_too_long", Unprocessable, "A note has at most 2,000 characters.";
    OnePicture = "one_picture", Unprocessable, "A notification shows one picture: a URL or a selfie.";
    PetRequired = "pet_required", Unprocessable, "Name the pet.";
    SignatureRequired = "signature_required", Unprocessable, "Type your full name (up to 200 characters) to sign.";
    PaymentMethodRequired = "payment_method_required", Unprocessable, "The client has no payment method on file: enrolling without one needs a manager.";
    PaymentsNotConfigured = "payments_not_configured", Unprocessable, "This server takes no card payments: no payment gateway is set up.";
    CardNotSaved = "card_not_saved", Unprocessable, "The card is not saved yet: finish entering it in the card fields.";
    CardExpired = "card_expired", Unprocessable, "That card has expired: save a new one.";
    CardNumberRefused = "card_number_refused", Unprocessable, "Card numbers are typed into the payment gateway's own fields, never sent to this server.";
    GatewayRefused = "gateway_refused", Unprocessable, "The payment gateway refused the request.";
    PlanDoesNotFit = "plan_does_not_fit", Unprocessable, "The pet's species or age is not what this plan is for.";
    PlanNotSold = "plan_not_sold", Unprocessable, "That plan template is no longer sold.";
    NotARenewal = "not_a_renewal", Unprocessable, "Only a renewal not yet started is configured.";
    PlanUnchanged = "plan_unchanged", Unprocessable, "The plan is on that template's current version already.";
    PlanTermDiffers = "plan_term_differs", Unprocessable, "A plan changes to a template of the same term.";
    ChangeNeedsRefund = "change_needs_refund", Unprocessable, "The new plan costs less than has been paid: cancel the plan and refund instead.";
    ReasonRequired = "reason_required", Unprocessable, "Give a reason of 1 to 500 characters.";
    RefundChoiceRequired = "refund_choice_required", Unprocessable, "The owner paid more than is owed: say whether it was refunded elsewhere or kept.";
    InvalidSupplemental = "invalid_supplemental", Unprocessable, "A supplemental payment is 1 to 10,000,000 cents, due from today to a year ahead, with a note of up to 500 characters (required when it is for something other).";
    RefundBeyondCardCharges = "refund_beyond_card_charges", Unprocessable, "Only what was charged to a card through the gateway is refunded to it; record the rest as refunded at the desk.";
    OwedFigureRequired = "owed_figure_required", Unprocessable, "The practice's policy asks the manager for the figure owed.";
    SelfieNotFavourite = "selfie_not_favourite", Unprocessable, "Heart the selfie before attaching it.";
    TooManyLines = "too_many_lines", Unprocessable, "An invoice has too many lines.";
    UnknownAddOn = "unknown_add_on", Unprocessable, "That item is not an add-on of this plan.";
    UnknownAttachment = "unknown_attachment", Unprocessable, "That picture is not one of this conversation's.";
    UnknownPet = "unknown_pet", Unprocessable, "That pet is not this household's.";
    UnknownReward = "unknown_reward", Unprocessable, "There is no such reward.";
    UnknownSelfie = "unknown_selfie", Unprocessable, "That selfie is not this household's.";
    UnknownStaff = "unknown_staff", Unprocessable, "There is no such staff member.";
    UnreadableImage = "unreadable_image", Unprocessable, "The picture could not be read.";
    WeakPassword = "weak_password", Unprocessable, "The password is too short or too easy to guess.";
    WrongCode = "wrong_code", Unprocessable, "That code is not right.";
    InvalidReward = "invalid_reward", Unprocessable, "A reward has a name of 1 to 100 characters and a number of paws from 1.";
    InvalidTransition = "invalid_transition", Unprocessable, "The request cannot move to that step from where it is.";
    BatchTooLarge = "batch_too_large", Unprocessable, "A sync batch holds at most 10,000 records.";
    InvalidLockoutThreshold = "invalid_lockout_threshold", Unprocessable, "The lockout threshold is 3 to 20 failed logins.";
    InvalidRenewalRules = "invalid_renewal_rules", Unprocessable, "Renewals are prepared 1 to 120 days ahead, blocked after 0 to 12 failed payments, and owners told 15 to 45 days ahead.";
    InvalidMultiPetDiscount = "invalid_multi_pet_discount", Unprocessable, "A multi-pet discount is 0 to 100,000 cents off the enrolment fee.";
    InvalidLateFee = "invalid_late_fee", Unprocessable, "A late fee is 100 to 50,000 cents.";
    InvalidLetterhead = "invalid_letterhead", Unprocessable, "A letterhead is up to 4 lines of up to 100 characters.";
    InvalidPlanPoints = "invalid_plan_points", Unprocessable, "Plan points are 0 to 1,000 a sale, taken back within 0 to 365 days.";
    InvalidPawRule = "invalid_paw_rule", Unprocessable, "One paw for every 1 cent to 10,000 dollars of an invoice, or none.";
    InvalidPracticeCode = "invalid_practice_code", Unprocessable, "A practice code has 3 to 64 lower-case letters, digits and '-'.";
    InvalidSpecies = "invalid_species", Unprocessable, "A species has at most 100 characters.";
    InvalidBreed = "invalid_breed", Unprocessable, "A breed has at most 100 characters.";
    InvalidSex = "invalid_sex", Unprocessable, "A sex has at most 100 characters.";
    WrongPassword = "wrong_password", Unprocessable, "The current password is not right.";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The record does not exist, or lies outside the caller's scope.
    #[error("not found")]
    NotFound,
    /// The caller's level may not do this (a manager may approve it).
    #[error("forbidden")]
    Forbidden,
    /// A failure with a stable code, whose kind is the answer's status; the
    /// detail tells people more than the code's own message, when given.
    #[error("{}", describe(*.0, .1.as_deref()))]
    Failed(Code, Option<String>),
    /// Something outside the caller's control failed; logged, not shown.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

fn describe(code: Code, detail: Option<&str>) -> String {
    format!("{code}: {}", detail.unwrap_or(code.message()))
}

/// The result every service returns.
pub type DomainResult<T> = Result<T, DomainError>;

impl From<Code> for DomainError {
    fn from(code: Code) -> Self {
        Self::Failed(code, None)
    }
}

impl DomainError {
    /// A failure with a stable code and a message for people.
    pub fn with(code: Code, message: impl Into<String>) -> Self {
        Self::Failed(code, Some(message.into()))
    }

    /// The code answered for it.
    pub fn code(&self) -> Code {
        match self {
            Self::NotFound => Code::NotFound,
            Self::Forbidden => Code::Forbidden,
            Self::Failed(code, _) => *code,
            Self::Unexpected(_) => Code::Internal,
        }
    }

    /// What its user is told.
    pub fn message(&self) -> String {
        match self {
            Self::Failed(code, detail) => detail.clone().unwrap_or_else(|| code.message().to_owned()),
            other => other.code().message().to_owned(),
        }
    }

    /// Wraps an unexpected failure, keeping its whole cause chain for the log.
    pub fn unexpected(err: impl std::error::Error) -> Self {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Unexpected(text)
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        match err {
            DbErr::RecordNotFound(_) => Self::NotFound,
            other => Self::unexpected(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_with_a_message() {
        let names: HashSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for code in Code::ALL {
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code}");
            assert!(code.message().ends_with('.'), "{code}: a sentence for people");
        }
        assert_eq!(DomainError::from(Code::AccountExists).code().kind().status(), 409);
    }

    /// Every code in the table is answered somewhere: the sources of every
    /// crate that answers requests name it (this table aside).
    #[test]
    fn every_code_is_used() {
        let text =
            crate::workspace::sources(&["domain", "http", "realtime", "dashboard", "mobile-api", "workers", "server"])
                .replace(include_str!("error.rs"), "");
        let unused: Vec<String> = Code::ALL
            .iter()
            .map(|c| format!("{c:?}"))
            .filter(|name| !text.contains(&format!("Code::{name}")))
            .collect();
        assert!(unused.is_empty(), "codes nothing answers with: {unused:?}");
    }
}
