//! Analyst feedback on monitor events through the API, on every backend: roles, fields that must
//! fit the verdict, a missing event, per-organisation visibility, the labels the marks give, and
//! the audit entry.

mod common;
use chipwatch_store::monitor::{Inserted, NewArticle};
use common::*;
use serde_json::json;

fn article(hash: &str) -> NewArticle {
    let record = json!({"title": "Fire at a fab", "language": "en", "relevant": true,
        "event_type": "factory_fire", "countries": ["JPN"]});
    NewArticle {
        canonical_url: None,
        content_hash: hash.into(),
        source: "test".into(),
        url: None,
        title: "Fire at a fab".into(),
        language: "en".into(),
        body: "A fire broke out at a chip plant.".into(),
        seen_at: None,
        published_at: None,
        event_time: 1_740_816_000,
        relevant: true,
        event_type: "factory_fire".into(),
        cluster_id: None,
        severity: 0.5,
        simhash: 1,
        entities: "[]".into(),
        record: record.to_string(),
    }
}

#[tokio::test]
async fn feedback_is_checked_per_organisation_labelled_and_audited() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        let Inserted::New(id) = env
            .store
            .monitor_insert_article(&article("h1"), &[])
            .await
            .unwrap()
        else {
            panic!("{b}: not inserted")
        };
        let Inserted::New(other) = env
            .store
            .monitor_insert_article(&article("h2"), &[])
            .await
            .unwrap()
        else {
            panic!("{b}: not inserted")
        };
        let path = format!("/api/v1/monitor/events/{id}/feedback");
        let (st, v) = call(
            app,
            "POST",
            &path,
            Some(&kr.viewer),
            Some(json!({"verdict": "irrelevant"})),
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        for (body, code) in [
            (json!({"verdict": "wrong_type"}), "validation_failed"),
            (
                json!({"verdict": "wrong_type", "event_type": "volcano"}),
                "validation_failed",
            ),
            (
                json!({"verdict": "correct", "event_type": "strike"}),
                "validation_failed",
            ),
            (json!({"verdict": "fine"}), "validation_failed"),
            (
                json!({"verdict": "duplicate", "duplicate_of": id}),
                "validation_failed",
            ),
            (
                json!({"verdict": "duplicate", "duplicate_of": 999_999}),
                "not_found",
            ),
        ] {
            let (st, v) = call(app, "POST", &path, Some(&kr.analyst), Some(body.clone())).await;
            assert_eq!(error_code(st, &v), code, "{b}: {body}");
        }
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/monitor/events/999999/feedback",
            Some(&kr.analyst),
            Some(json!({"verdict": "correct"})),
        )
        .await;
        assert_eq!(error_code(st, &v), "not_found", "{b}");

        let (st, v) = call(app, "POST", &path, Some(&kr.analyst), Some(json!({"verdict": "wrong_type", "event_type": "power_outage", "note": "the fire was a blackout"}))).await;
        assert_eq!(st, 201, "{b}: {v}");
        let (st, v) = call(
            app,
            "POST",
            &format!("/api/v1/monitor/events/{other}/feedback"),
            Some(&kr.analyst),
            Some(json!({"verdict": "duplicate", "duplicate_of": id})),
        )
        .await;
        assert_eq!(st, 201, "{b}: {v}");
        let (st, v) = call(
            app,
            "POST",
            &path,
            Some(&nl.analyst),
            Some(json!({"verdict": "irrelevant"})),
        )
        .await;
        assert_eq!(st, 201, "{b}: {v}");

        // Each organisation sees its own marks and labels.
        let (_, mine) = call(
            app,
            "GET",
            "/api/v1/monitor/feedback",
            Some(&kr.viewer),
            None,
        )
        .await;
        assert_eq!(mine["feedback"].as_array().unwrap().len(), 2, "{b}: {mine}");
        let labels = mine["labels"].as_array().unwrap();
        let l = labels.iter().find(|l| l["event_id"] == id).unwrap();
        assert_eq!(
            (l["relevant"].clone(), l["event_type"].clone()),
            (json!(true), json!("power_outage")),
            "{b}"
        );
        let l = labels.iter().find(|l| l["event_id"] == other).unwrap();
        assert_eq!(
            (l["relevant"].clone(), l["event_type"].clone()),
            (json!(false), json!("none")),
            "{b}: a duplicate is no new event"
        );
        let (_, theirs) = call(
            app,
            "GET",
            "/api/v1/monitor/feedback",
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(
            theirs["feedback"].as_array().unwrap().len(),
            1,
            "{b}: {theirs}"
        );
        assert_eq!(theirs["labels"][0]["relevant"], false, "{b}");

        let (_, audit) = call(
            app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&kr.admin),
            None,
        )
        .await;
        assert!(audit.to_string().contains("event.feedback"), "{b}");
    }
}
