//! `POST /stock`, `GET /stock/{sku}` and `POST /stock/{sku}/restock`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared_events::http::{traceparent, ApiError, Json};

use super::input::{count, path_sku, sku, sku_not_found, store_error};
use crate::domain::{Money, NewProduct, Product, ProductName};
use crate::store::InventoryStore;

/// A product as the API shows it (SPEC §4).
#[derive(Serialize)]
pub struct ProductView<'a> {
    sku: &'a str,
    name: &'a str,
    price: Money,
    available: u64,
    reserved: u64,
    sold: u64,
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

/// The request as sent; each field is parsed into its domain type with its own error code.
#[derive(Deserialize)]
pub struct CreateStock {
    sku: Value,
    name: Value,
    price: Value,
    quantity: Value,
    /// Optional: no alerts when omitted (0).
    #[serde(default)]
    low_stock_threshold: Option<Value>,
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

pub async fn create_stock(
    req: HttpRequest,
    body: Json<CreateStock>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let new = NewProduct::try_from(body.into_inner())?;
    let sku = new.sku.to_string();
    let product = store
        .create_product(new, traceparent(&req))
        .await
        .map_err(|e| store_error(e, &sku))?;
    tracing::info!(sku = %product.sku, available = product.available, "product created");
    Ok(HttpResponse::Created().json(ProductView::from(&product)))
}

pub async fn get_stock(
    path: web::Path<String>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&path)?;
    match store.product(&sku).await {
        Ok(Some(product)) => Ok(HttpResponse::Ok().json(ProductView::from(&product))),
        Ok(None) => Err(sku_not_found(sku.as_str())),
        Err(e) => Err(store_error(e, sku.as_str())),
    }
}

#[derive(Deserialize)]
pub struct Restock {
    quantity: Value,
}

pub async fn restock(
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<Restock>,
    store: web::Data<dyn InventoryStore>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&path)?;
    let quantity = count(&body.quantity, "quantity", 1, "invalid_quantity")?;
    let product = store
        .restock(&sku, quantity, traceparent(&req))
        .await
        .map_err(|e| store_error(e, sku.as_str()))?;
    tracing::info!(%sku, quantity, available = product.available, "restocked");
    Ok(HttpResponse::Ok().json(ProductView::from(&product)))
}
