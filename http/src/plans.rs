//! A plan's items with what is left of them, and its agreements' PDFs, as
//! both APIs show them.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    db::entities::{plan_agreement::Occasion, plan_template_item},
    plans::{agreements::AgreementFile, records::AgreementSummary},
};
use poem_openapi::{ApiResponse, Object, payload::Binary};
use uuid::Uuid;

use crate::fields::Stored;

/// A healthcare agreement, byte for byte as it was issued.
#[derive(ApiResponse)]
pub enum AgreementPdf {
    /// The PDF: its SHA-256 is the one the plan lists.
    #[oai(status = 200, content_type = "application/pdf")]
    Ok(
        Binary<Vec<u8>>,
        /// `inline`, with the file name to save it as.
        #[oai(header = "content-disposition")]
        String,
        /// `private, no-store`: no cache keeps a copy.
        #[oai(header = "cache-control")]
        String,
    ),
}

impl From<AgreementFile> for AgreementPdf {
    fn from(file: AgreementFile) -> Self {
        AgreementPdf::Ok(
            Binary(file.pdf),
            format!("inline; filename=\"{}\"", file.filename),
            "private, no-store".to_owned(),
        )
    }
}

/// An item of a plan with what is left of it this term.
#[derive(Debug, Object)]
pub struct PlanItemBalance {
    /// The item (of the version the plan was sold on).
    pub item_id: Uuid,
    /// What it is.
    pub description: String,
    /// Its WP code.
    pub code: String,
    /// Allowed this term; absent for unlimited.
    pub allowed: Option<i32>,
    /// Used this term.
    pub used: i32,
    /// Left this term; absent for unlimited.
    pub remaining: Option<i32>,
    /// Chosen as an add-on at enrolment.
    pub add_on: bool,
}

impl PlanItemBalance {
    /// The balance of each item of a plan. Usage comes with the item-usage
    /// ledger; until it posts, nothing is used.
    pub fn all(items: Vec<plan_template_item::Model>) -> Vec<Self> {
        items
            .into_iter()
            .map(|i| Self {
                item_id: i.id,
                description: i.description,
                code: i.code,
                allowed: i.quantity,
                used: 0,
                remaining: i.quantity,
                add_on: i.add_on_monthly_cents.is_some(),
            })
            .collect()
    }
}

/// A healthcare agreement a plan was issued, and how its owner signed it
/// (the owner's own record, so the app shows it too).
#[derive(Debug, Object)]
pub struct PlanAgreement {
    /// Id: `GET /plans/{id}/agreements/{agreement_id}` gives its PDF.
    pub id: Uuid,
    /// 1 for the plan's first, one more for each reissue.
    pub number: i32,
    /// Why it was issued.
    pub occasion: Stored<Occasion>,
    /// The name it goes by (the PDF's footer).
    pub reference: String,
    /// Hex SHA-256 of the PDF.
    pub sha256: String,
    /// Who issued it.
    pub issued_by: String,
    /// When.
    pub issued_at: DateTime<Utc>,
    /// The signing record, once the owner signed it in the app.
    pub signature: Option<AgreementSignature>,
}

/// How an owner signed an agreement.
#[derive(Debug, Object)]
pub struct AgreementSignature {
    /// The name they typed.
    pub name: String,
    /// When.
    pub signed_at: DateTime<Utc>,
    /// The network address it came from.
    pub address: Option<String>,
    /// The app or browser it came from.
    pub user_agent: Option<String>,
    /// The exact words agreed to, which name the PDF's SHA-256.
    pub statement: String,
}

impl From<AgreementSummary> for PlanAgreement {
    fn from(a: AgreementSummary) -> Self {
        let signature = match (a.signed_name, a.signed_at, a.signed_statement) {
            (Some(name), Some(signed_at), Some(statement)) => Some(AgreementSignature {
                name,
                signed_at,
                address: a.signed_address,
                user_agent: a.signed_user_agent,
                statement,
            }),
            _ => None,
        };
        Self {
            id: a.id,
            number: a.number,
            occasion: a.occasion.into(),
            reference: a.reference,
            sha256: a.sha256,
            issued_by: a.issued_by,
            issued_at: a.created_at,
            signature,
        }
    }
}
