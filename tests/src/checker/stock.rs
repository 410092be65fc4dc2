//! The stock: SPEC §5.2, every SKU's units conserved and none left reserved or below zero, and
//! §5.3, sold equal to the quantities of the CONFIRMED orders.

use crate::client::{Api, Product};

use super::world::confirmed;
use super::{LedgerInner, SkuBook, World};

/// Reads every SKU of the scenario into `world.products` and checks §5.2 and §5.3 on each.
pub(super) async fn check(api: &Api, ledger: &LedgerInner, world: &mut World) -> Vec<String> {
    let mut v = Vec::new();
    for (sku, book) in &ledger.skus {
        let p = match api.product(sku).await {
            Ok(p) => p,
            Err(e) => {
                v.push(format!("GET /stock/{sku}: {e}"));
                continue;
            }
        };
        v.extend(conserved(sku, book, &p, world));
        v.extend(sold(sku, &p, world));
        world.products.insert(sku.clone(), p);
    }
    v
}

/// §5.2: available + reserved + sold = initial + restocked, nothing reserved, nothing below 0.
fn conserved(sku: &str, book: &SkuBook, p: &Product, world: &World) -> Vec<String> {
    let mut v = Vec::new();
    let expected_total = book.initial + book.restocked;
    let total = p.available + p.reserved + p.sold;
    if total != expected_total {
        v.push(format!(
            "§5.2 SKU {sku}: initial {} + restocked {} = {expected_total} but available {} + reserved {} + sold {} = {total}",
            book.initial, book.restocked, p.available, p.reserved, p.sold
        ));
    }
    if p.reserved != 0 {
        let holders: Vec<String> = world
            .orders
            .values()
            .filter(|o| !o.is_terminal() && o.items.iter().any(|l| l.sku == sku))
            .map(|o| o.id.to_string())
            .collect();
        v.push(format!(
            "§5.2 SKU {sku}: reserved = {} at quiescence (pending orders with it: {holders:?})",
            p.reserved
        ));
    }
    if p.available < 0 {
        v.push(format!("§5.2 SKU {sku}: available = {} < 0", p.available));
    }
    v
}

/// §5.3: sold = the quantities of the SKU in the CONFIRMED orders.
fn sold(sku: &str, p: &Product, world: &World) -> Vec<String> {
    let sold: i64 = confirmed(world)
        .iter()
        .flat_map(|o| o.items.iter())
        .filter(|l| l.sku == sku)
        .map(|l| i64::from(l.quantity))
        .sum();
    if p.sold != sold {
        vec![format!(
            "§5.3 SKU {sku}: sold = {} but the CONFIRMED orders hold {sold}",
            p.sold
        )]
    } else {
        Vec::new()
    }
}
