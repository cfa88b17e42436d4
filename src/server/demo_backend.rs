//! The demo company's own systems, for the demo knowledge's scenarios: a CRM
//! (`GET /customers/{id}/services`) and a shop (`GET /orders/{order_id}`), answering
//! JSON derived deterministically from the id. An order belongs to the customer
//! `u` + its first four digits (order 100100000003 is u1001's). Started by `bizbot demo-backend`
//! (the README's run command does it); tests start their own back-ends.

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

/// The demo back-end's routes.
pub fn demo_backend_router() -> Router {
    Router::new().route("/customers/{id}/services", get(services)).route("/orders/{order_id}", get(order))
}

fn digits_sum(s: &str) -> u32 {
    s.bytes().map(u32::from).sum()
}

async fn services(Path(id): Path<String>) -> Result<Json<Value>, StatusCode> {
    if !id.starts_with('u') || id.len() < 2 || !id[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatusCode::NOT_FOUND);
    }
    let n = digits_sum(&id);
    let plans = [("星享 29 元套餐", 29), ("星享 59 元套餐", 59), ("星享 99 元融合套餐", 99)];
    let (plan, fee) = plans[(n % 3) as usize];
    let mut services = vec![json!({"name": plan, "fee": fee, "since": "2024-03-01"})];
    if n.is_multiple_of(2) {
        services.push(json!({"name": "视频会员定向流量包", "fee": 15, "since": "2025-01-15"}));
    }
    if n % 5 < 3 {
        services.push(json!({"name": "来电显示", "fee": 0, "since": "2024-03-01"}));
    }
    if fee == 99 {
        services.push(json!({"name": "星速宽带 500M", "fee": 0, "since": "2024-06-20"}));
    }
    let total: i64 = services.iter().filter_map(|s| s["fee"].as_i64()).sum();
    Ok(Json(json!({"customer_id": id, "services": services, "monthly_fee": total})))
}

async fn order(Path(order_id): Path<String>) -> Result<Json<Value>, StatusCode> {
    if order_id.len() != 12 || !order_id.bytes().all(|b| b.is_ascii_digit()) || order_id == "000000000000" {
        return Err(StatusCode::NOT_FOUND);
    }
    let last = order_id.as_bytes()[11] - b'0';
    let mut body = match last {
        0..=2 => {
            json!({"order_id": order_id, "status": "待发货", "item": "星河 5G 手机", "eta": "付款后 24 小时内发货"})
        }
        3..=6 => json!({"order_id": order_id, "status": "运输中", "item": "WiFi 6 路由器", "carrier": "顺丰速运",
                        "tracking": format!("SF{}", &order_id[4..]), "eta": "预计明天送达", "location": "已到达本市分拣中心"}),
        _ => json!({"order_id": order_id, "status": "已签收", "item": "蓝牙耳机", "carrier": "中通快递",
                    "tracking": format!("ZT{}", &order_id[4..]), "eta": "已签收", "location": "本人签收"}),
    };
    body["customer_id"] = json!(format!("u{}", &order_id[..4]));
    Ok(Json(body))
}
