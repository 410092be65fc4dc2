//! The steps the HTTP API starts, each run in one transaction by [`super::transaction::run`]
//! (again from a new snapshot after a write conflict). The work inside is [`super::steps`]'s;
//! these say which work, and with what.

use async_trait::async_trait;
use mongodb::{ClientSession, Database};

use super::steps;
use super::transaction::{Step, StepError};
use crate::domain::{Command, Product, Repeats, Reservation, Sku};
use crate::store::{left_by, Cause};

/// `POST /stock`: the new product and its events.
pub struct CreateStep {
    /// The product as it is created.
    pub product: Product,
    /// The request, for the events' trace.
    pub cause: Cause,
}

#[async_trait]
impl Step for CreateStep {
    type Output = ();
    async fn run(&self, session: &mut ClientSession, db: &Database) -> Result<(), StepError> {
        steps::create(session, db, &self.product, &self.cause).await
    }
}

/// `POST /stock/{sku}/restock`.
pub struct RestockStep {
    /// The product restocked.
    pub sku: Sku,
    /// How much is added to its available stock.
    pub quantity: u64,
    /// The request, for the events' trace.
    pub cause: Cause,
}

#[async_trait]
impl Step for RestockStep {
    type Output = Product;
    async fn run(&self, session: &mut ClientSession, db: &Database) -> Result<Product, StepError> {
        steps::restock(session, db, &self.sku, self.quantity, &self.cause).await
    }
}

/// `POST /stock/reserve` ([`Command::ReserveByHand`]) or `DELETE /stock/reserve/{order_id}`
/// ([`Command::ReleaseByHand`]): a step on the order's manual reservation, which answers with
/// it as the step leaves it.
pub struct ByHandStep {
    /// A manual command.
    pub command: Command,
    /// The request, for the events' trace.
    pub cause: Cause,
}

#[async_trait]
impl Step for ByHandStep {
    type Output = Reservation;
    async fn run(
        &self,
        session: &mut ClientSession,
        db: &Database,
    ) -> Result<Reservation, StepError> {
        let decision =
            steps::apply(session, db, &self.command, &self.cause, Repeats::Silent).await?;
        let step = match self.command {
            Command::ReleaseByHand(_) => "release",
            _ => "reserve",
        };
        Ok(left_by(step, decision.reservation)?)
    }
}
