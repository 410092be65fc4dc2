//! The OpenAPI schemas of the contract values the services' documents share (feature
//! `openapi`, utoipa's traits): [`Money`], [`Sku`] and [`OrderLine`]. They are written by hand
//! from the rules their parsers apply, beside the types (Rust's orphan rule keeps a trait
//! implementation with its type or its trait), so that a field of one of these types documents
//! itself and every service's document names the same schema. utoipa describes documents and
//! serves nothing: the contracts stay free of any HTTP server or client.

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::events::OrderLine;
use crate::sku::MAX_SKU_LEN;
use crate::{Money, Sku};

/// Money as every API answers it: a decimal string with exactly two places.
impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An exact decimal amount with two decimal places"))
            .pattern(Some(r"^[0-9]+\.[0-9]{2}$"))
            .examples([json!("12.50")])
            .into()
    }
}

impl ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

/// A SKU as [`Sku::parse`] accepts it.
impl PartialSchema for Sku {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A product's stock-keeping unit: 1 to 64 letters, digits, `.`, `_` or `-`",
            ))
            .pattern(Some(format!("^[A-Za-z0-9._-]{{1,{MAX_SKU_LEN}}}$")))
            .examples([json!("WIDGET-1")])
            .into()
    }
}

impl ToSchema for Sku {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Sku")
    }
}

/// One priced line of an order, as orders answers it.
impl PartialSchema for OrderLine {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("One priced line of an order"))
            .property(
                "sku",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("The product, as the catalogue names it")),
            )
            .required("sku")
            .property(
                "quantity",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .description(Some("How many")),
            )
            .required("quantity")
            .property("unit_price", Ref::from_schema_name(Money::name()))
            .required("unit_price")
            .into()
    }
}

impl ToSchema for OrderLine {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OrderLine")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Money::name().into_owned(), Money::schema()));
    }
}
