//! `POST /stock`, `GET /stock/{sku}` and `POST /stock/{sku}/restock`: products and stock are
//! the operator's; anyone with a role reads a product.

use actix_web::{web, HttpRequest, HttpResponse};
use saga_kit::auth::{Caller, Operator};
use saga_kit::http::responses::{
    Forbidden, MalformedJson, PayloadTooLarge, Unauthorized, Unavailable,
};
use saga_kit::http::{traceparent, ApiError, ErrorBody, Json};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use super::input::{count, path_sku, sku, sku_not_found};
use crate::domain::{Money, NewProduct, Product, ProductName};
use crate::store::InventoryStore;
use saga_contracts::Sku;

/// A product and its stock numbers, as the API shows it (SPEC §4).
#[derive(Serialize, ToSchema)]
#[schema(as = Product)]
pub struct ProductView<'a> {
    /// Its key.
    #[schema(value_type = Sku)]
    sku: &'a str,
    /// Its name.
    name: &'a str,
    /// Its unit price.
    price: Money,
    /// Units that can be reserved.
    available: u64,
    /// Units held for orders not yet confirmed.
    reserved: u64,
    /// Units sold (reservations of confirmed orders).
    sold: u64,
    /// `low.stock` is sent when `available` falls below this (0: never).
    low_stock_threshold: u64,
}

impl<'a> From<&'a Product> for ProductView<'a> {
    fn from(p: &'a Product) -> Self {
        ProductView {
            sku: p.sku.as_str(),
            name: p.name.as_str(),
            price: p.price,
            available: p.available,
            reserved: p.reserved,
            sold: p.sold,
            low_stock_threshold: p.low_stock_threshold,
        }
    }
}

/// A new product with its initial stock. As sent: each field is parsed into its domain type
/// with its own error code.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewProduct)]
pub struct CreateStock {
    /// Its key, unique among products.
    #[schema(value_type = Sku)]
    sku: Value,
    /// Trimmed, not empty, no control characters.
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    name: Value,
    /// Its unit price.
    #[schema(schema_with = price_schema)]
    price: Value,
    /// The initial available stock.
    #[schema(value_type = u64, minimum = 0, maximum = 1_000_000_000)]
    quantity: Value,
    /// Optional: no alerts when omitted (0).
    #[serde(default)]
    #[schema(value_type = u64, required = false, minimum = 0, maximum = 1_000_000_000, default = 0)]
    low_stock_threshold: Option<Value>,
}

/// A price as sent: a decimal string, or a JSON number within bounds.
fn price_schema() -> impl Into<RefOr<Schema>> {
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .maximum(Some(1_000_000_000));
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(number)
        .description(Some(
            "Non-negative, at most two decimal places, at most 1000000000; a decimal string \
             such as \"12.50\" (trailing zeros past two places are dropped) or a JSON number",
        ))
        .examples([json!("250.00")])
}

impl TryFrom<CreateStock> for NewProduct {
    type Error = ApiError;
    fn try_from(req: CreateStock) -> Result<Self, ApiError> {
        let sku = sku(&req.sku)?;
        let name = req
            .name
            .as_str()
            .ok_or_else(|| "name must be a string".to_owned())
            .and_then(ProductName::parse)
            .map_err(|m| ApiError::unprocessable("invalid_name", m))?;
        let price = serde_json::from_value::<Money>(req.price)
            .map_err(|e| ApiError::unprocessable("invalid_price", format!("price: {e}")))?;
        let quantity = count(&req.quantity, "quantity", 0, "invalid_quantity")?;
        let low_stock_threshold = match &req.low_stock_threshold {
            None | Some(Value::Null) => 0,
            Some(v) => count(v, "low_stock_threshold", 0, "invalid_threshold")?,
        };
        Ok(NewProduct {
            sku,
            name,
            price,
            quantity,
            low_stock_threshold,
        })
    }
}

/// Create a product with its initial stock
///
/// Operators only.
#[utoipa::path(post, path = "/stock", tag = "stock",
    request_body = CreateStock,
    security(("bearer" = ["operator"])),
    responses(
        (status = 201, description = "Created", body = ProductView,
            links(
                ("GetStock" = (operation_id = "getStock", parameters(("sku" = "$response.body#/sku")))),
                ("Restock" = (operation_id = "restock", parameters(("sku" = "$response.body#/sku")))),
            )),
        (status = 409, description = "sku_exists", body = ErrorBody),
        (status = 422, description = "invalid_sku, invalid_name, invalid_price, invalid_quantity, invalid_threshold, invalid_request", body = ErrorBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(sku = tracing::field::Empty))]
pub async fn create_stock(
    _operator: Operator,
    req: HttpRequest,
    body: Json<CreateStock>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let new = NewProduct::try_from(body.into_inner())?;
    tracing::Span::current().record("sku", new.sku.as_str());
    let product = store.create_product(new, traceparent(&req)).await?;
    tracing::info!(available = product.available, "product created");
    Ok(HttpResponse::Created().json(ProductView::from(&product)))
}

/// A product and its stock numbers
///
/// Operators and customers.
#[utoipa::path(get, path = "/stock/{sku}", tag = "stock", operation_id = "getStock",
    params(("sku" = Sku, Path, description = "The product's SKU")),
    security(("bearer" = ["operator", "customer"])),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 404, description = "sku_not_found", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(sku = %path.as_str()))]
pub async fn get_stock(
    caller: Caller,
    path: web::Path<String>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any_role()?;
    let sku = path_sku(&path)?;
    let product = store
        .product(&sku)
        .await?
        .ok_or_else(|| sku_not_found(sku.as_str()))?;
    Ok(HttpResponse::Ok().json(ProductView::from(&product)))
}

/// How much stock to add. As sent: parsed by hand, for its own error code.
#[derive(Deserialize, ToSchema)]
pub struct Restock {
    /// Units added to the available stock.
    #[schema(value_type = u64, minimum = 1, maximum = 1_000_000_000)]
    quantity: Value,
}

/// Add stock to a product
///
/// Operators only.
#[utoipa::path(post, path = "/stock/{sku}/restock", tag = "stock", operation_id = "restock",
    params(("sku" = Sku, Path, description = "The product's SKU")),
    security(("bearer" = ["operator"])),
    request_body = inline(Restock),
    responses(
        (status = 200, description = "The new numbers", body = ProductView),
        (status = 404, description = "sku_not_found", body = ErrorBody),
        (status = 422, description = "invalid_quantity (also when available would exceed 1000000000), invalid_request", body = ErrorBody),
        MalformedJson, Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ))]
#[tracing::instrument(skip_all, fields(sku = %path.as_str()))]
pub async fn restock(
    _operator: Operator,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<Restock>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&path)?;
    let quantity = count(&body.quantity, "quantity", 1, "invalid_quantity")?;
    let product = store.restock(&sku, quantity, traceparent(&req)).await?;
    tracing::info!(quantity, available = product.available, "restocked");
    Ok(HttpResponse::Ok().json(ProductView::from(&product)))
}
