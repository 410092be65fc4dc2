//! The steps the HTTP API starts, each run in one transaction by [`super::transaction::run`]
//! (again from a new snapshot after a write conflict). The work inside is [`super::steps`]'s;
//! these say which work, and with what.

use async_trait::async_trait;
use mongodb::{ClientSession, Database};
use uuid::Uuid;

use super::steps;
use super::transaction::{Step, StepError};
use crate::domain::{Command, Product, Repeats, Reservation, Sku};
use crate::store::{left_by, Cause, StoreError};

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

/// `POST /stock/reserve`: the saga's reservation, marked as made by hand when this request
/// made it.
pub struct ReserveStep {
    /// A [`Command::Reserve`].
    pub command: Command,
    /// The request, for the events' trace.
    pub cause: Cause,
}

#[async_trait]
impl Step for ReserveStep {
    type Output = Reservation;
    async fn run(
        &self,
        session: &mut ClientSession,
        db: &Database,
    ) -> Result<Reservation, StepError> {
        let decision =
            steps::apply(session, db, &self.command, &self.cause, Repeats::Silent).await?;
        if decision.reservation_changed {
            // Made by this request (not an earlier answer): a release may give it back.
            steps::mark_manual(session, db, self.command.order_id()).await?;
        }
        Ok(left_by("reserve", decision.reservation)?)
    }
}

/// `DELETE /stock/reserve/{order_id}`: the check and the release in one transaction.
pub struct ReleaseStep {
    /// The order whose reservation is given back.
    pub order_id: Uuid,
    /// The request, for the events' trace.
    pub cause: Cause,
}

#[async_trait]
impl Step for ReleaseStep {
    type Output = Reservation;
    async fn run(
        &self,
        session: &mut ClientSession,
        db: &Database,
    ) -> Result<Reservation, StepError> {
        match steps::is_manual(session, db, self.order_id).await? {
            None => return Err(StoreError::ReservationNotFound(self.order_id).into()),
            Some(false) => return Err(StoreError::ReservationOwnedBySaga(self.order_id).into()),
            Some(true) => {}
        }
        let command = Command::Cancel(self.order_id);
        let decision = steps::apply(session, db, &command, &self.cause, Repeats::Silent).await?;
        if decision.reservation_changed {
            // The released reservation's document was replaced whole: keep it releasable, so
            // that a repeated release answers the same.
            steps::mark_manual(session, db, self.order_id).await?;
        }
        Ok(left_by("release", decision.reservation)?)
    }
}
