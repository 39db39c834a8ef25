//! Denial notices in the store, on SQLite always and PostgreSQL when `CHIPWATCH_TEST_PG_URL` is
//! set: another organisation sees nothing without an agreement; an agreement listing
//! `denial_notice` releases exactly its fields; `"*"` metrics, revoked and expired agreements
//! release nothing; withdrawal is appended once; the database refuses rewrites; federated copies.

use chipwatch_controls::denials::{DenialNotice, DeniedItem, ReasonCategory};
use chipwatch_controls::Date;
use chipwatch_store::denial_notices::{DenialFilter, NewDenialNotice};
use chipwatch_store::partner::*;
use chipwatch_store::{test_stores, Store, StoreError};

async fn principal(store: &Store, org: &str, role: Role) -> Principal {
    let o = store.create_org(org, OrgKind::Local, "cli").await.unwrap();
    let u = store.create_user(o.id, "alice", role, "cli").await.unwrap();
    let secret = format!("cw_{}_{:0>40}", org, u.id);
    store
        .create_token(u.id, &secret, "test", None, "cli")
        .await
        .unwrap();
    store.principal_for_secret(&secret).await.unwrap().unwrap()
}

pub fn notice(reference: &str) -> DenialNotice {
    DenialNotice {
        reference: reference.into(),
        authority: "BAFA".into(),
        jurisdiction: "DEU".into(),
        denied_on: Date::parse("2025-03-14").unwrap(),
        item: DeniedItem {
            description: "DUV immersion scanner".into(),
            product: Some("NXT:2000i".into()),
            control_entry: Some("3B001.f.1".into()),
            model_item: Some("N22".into()),
        },
        destination: "CHN".into(),
        end_user: Some("Shanghai Micro Electronics Equipment Co., Ltd.".into()),
        end_user_aliases: vec!["SMEE".into()],
        consignees: vec!["Acme Trading Ltd".into()],
        reason_category: ReasonCategory::MilitaryEndUse,
        reason: Some("supplies military programmes".into()),
        withdrawn_on: None,
    }
}

fn new(n: DenialNotice, d: Distribution) -> NewDenialNotice {
    NewDenialNotice {
        notice: n,
        tlp: Some(Tlp::Amber),
        distribution: Some(d),
        sharing_group_id: None,
    }
}

fn agreement(grantee: i64, metrics: &[&str], fields: &[&str]) -> NewAgreement {
    NewAgreement {
        grantee_org_id: grantee,
        items: vec!["*".into()],
        metrics: metrics.iter().map(|s| s.to_string()).collect(),
        fields: fields.iter().map(|s| s.to_string()).collect(),
        granularity: Granularity::Firm,
        min_firms: 1,
        max_firm_share: 0.6,
        valid_from: 0,
        valid_until: None,
    }
}

#[tokio::test]
async fn notices_are_per_organisation_and_released_by_agreements_only() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let a = principal(&store, "BAFA", Role::Analyst).await;
        let b = principal(&store, "MOTIE", Role::Analyst).await;
        let c = principal(&store, "METI", Role::Viewer).await;
        let all = DenialFilter {
            include_withdrawn: true,
            ..Default::default()
        };
        let d = store
            .publish_denial(&a, new(notice("BAFA-1"), Distribution::Community))
            .await
            .unwrap();
        let _private = store
            .publish_denial(&a, new(notice("BAFA-2"), Distribution::OrganisationOnly))
            .await
            .unwrap();
        // The owner sees both, every field.
        let own = store.visible_denials(&a.org, &all).await.unwrap();
        assert_eq!(own.len(), 2, "{name}");
        assert!(own.iter().all(|v| v.own && v.withheld.is_empty()));
        assert_eq!(own[1].notice, notice("BAFA-1"), "{name}");
        // Same reference twice: conflict.
        let e = store
            .publish_denial(&a, new(notice("BAFA-1"), Distribution::Community))
            .await
            .unwrap_err();
        assert!(e.is_unique_violation(), "{name}: {e}");
        // Bad input names the field.
        let mut bad = notice("BAFA-3");
        bad.destination = "China".into();
        let e = store
            .publish_denial(&a, new(bad, Distribution::Community))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("destination"), "{name}: {e}");

        // Without an agreement another organisation sees nothing, even at community level.
        assert!(
            store
                .visible_denials(&b.org, &all)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // An agreement for every metric ("*") does not cover denial notices.
        store
            .create_agreement(&a, agreement(b.org.id, &["*"], &["end_user", "reason"]))
            .await
            .unwrap();
        assert!(
            store
                .visible_denials(&b.org, &all)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // One listing `denial_notice` releases the community notice with its fields only.
        let ag = store
            .create_agreement(&a, agreement(b.org.id, &["denial_notice"], &["end_user"]))
            .await
            .unwrap();
        let seen = store.visible_denials(&b.org, &all).await.unwrap();
        assert_eq!(seen.len(), 1, "{name}: {seen:?}");
        let v = &seen[0];
        assert_eq!(v.id, d.id);
        assert!(!v.own);
        assert_eq!(v.notice.end_user, notice("x").end_user, "{name}");
        assert_eq!(v.notice.end_user_aliases, vec!["SMEE".to_string()]);
        assert!(
            v.notice.consignees.is_empty() && v.notice.reason.is_none(),
            "{name}"
        );
        assert_eq!(
            v.withheld,
            vec!["consignees".to_string(), "reason".to_string()]
        );
        // Always shown: item, destination, date, authority, reason category.
        assert_eq!(v.notice.item, notice("x").item);
        assert_eq!(v.notice.destination, "CHN");
        assert_eq!(v.notice.authority, "BAFA");
        assert_eq!(v.notice.reason_category, ReasonCategory::MilitaryEndUse);
        // A third organisation still sees nothing.
        assert!(
            store
                .visible_denials(&c.org, &all)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // Revocation releases nothing from the next request on.
        store.revoke_agreement(&a, ag.id).await.unwrap();
        assert!(
            store
                .visible_denials(&b.org, &all)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // An expired agreement releases nothing either.
        let mut expired = agreement(b.org.id, &["denial_notice"], &["end_user"]);
        expired.valid_until = Some(1);
        store.create_agreement(&a, expired).await.unwrap();
        assert!(
            store
                .visible_denials(&b.org, &all)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // An agreement for another control entry does not cover it.
        let mut other = agreement(b.org.id, &["denial_notice"], &["end_user"]);
        other.items = vec!["3A090".into()];
        store.create_agreement(&a, other).await.unwrap();
        assert!(
            store
                .visible_denials(&b.org, &all)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let mut this = agreement(b.org.id, &["denial_notice"], &[]);
        this.items = vec!["3B001.f.1".into()];
        store.create_agreement(&a, this).await.unwrap();
        let seen = store.visible_denials(&b.org, &all).await.unwrap();
        assert_eq!(seen.len(), 1, "{name}");
        assert!(
            seen[0].notice.end_user.is_none(),
            "{name}: no fields agreed"
        );
    }
}

#[tokio::test]
async fn withdrawal_is_appended_once_and_rewrites_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let a = principal(&store, "BAFA", Role::Analyst).await;
        let b = principal(&store, "MOTIE", Role::Analyst).await;
        let d = store
            .publish_denial(&a, new(notice("BAFA-1"), Distribution::Community))
            .await
            .unwrap();
        let on = Date::parse("2025-09-01").unwrap();
        // Another organisation's notice is not found.
        let e = store.withdraw_denial(&b, d.id, on, "x").await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{name}: {e}");
        let e = store
            .withdraw_denial(&a, d.id, Date::parse("2025-01-01").unwrap(), "x")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("withdrawn_on"), "{name}: {e}");
        let e = store.withdraw_denial(&a, d.id, on, " ").await.unwrap_err();
        assert!(e.to_string().contains("reason"), "{name}: {e}");
        let w = store
            .withdraw_denial(&a, d.id, on, "end user left the programme")
            .await
            .unwrap();
        assert_eq!(w.notice.withdrawn_on, Some(on));
        let e = store
            .withdraw_denial(&a, d.id, on, "again")
            .await
            .unwrap_err();
        assert!(e.is_unique_violation(), "{name}: {e}");
        // Withdrawn notices are left out unless asked for.
        assert!(store
            .visible_denials(&a.org, &DenialFilter::default())
            .await
            .unwrap()
            .is_empty());
        // The database refuses to rewrite a notice or its withdrawal.
        for sql in [
            "UPDATE denial_notices SET end_user = 'someone else'",
            "DELETE FROM denial_notices",
            "UPDATE denial_withdrawals SET reason = 'x'",
            "DELETE FROM denial_withdrawals",
        ] {
            assert!(
                sqlx::query(sql).execute(store.pool()).await.is_err(),
                "{name}: {sql}"
            );
        }
        // Audited.
        let log = chipwatch_store::audit::entries(&store, None, 0, 1000)
            .await
            .unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"denial.publish") && actions.contains(&"denial.withdraw"));
    }
}

#[tokio::test]
async fn federated_copies_gain_withdrawals_and_follow_their_level() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let local = principal(&store, "MOTIE", Role::Analyst).await;
        let peer = store
            .create_org("seoul", OrgKind::Peer, "cli")
            .await
            .unwrap();
        let mut masked = notice("BAFA-9");
        masked.reason = None;
        let copy = |n: DenialNotice| {
            vec![(
                "u1".to_string(),
                "seoul/u1".to_string(),
                new(n, Distribution::Community),
            )]
        };
        let counts = store
            .ingest_federated_denials(&peer, "peer", copy(masked.clone()))
            .await
            .unwrap();
        assert_eq!(counts, (1, 0, 0), "{name}");
        let seen = store
            .visible_denials(&local.org, &DenialFilter::default())
            .await
            .unwrap();
        assert_eq!(seen.len(), 1, "{name}");
        assert!(seen[0].federated && seen[0].notice.reason.is_none());
        // Sent again: nothing changes; sent withdrawn: the withdrawal is appended once.
        let again = store
            .ingest_federated_denials(&peer, "peer", copy(masked.clone()))
            .await
            .unwrap();
        assert_eq!(again, (0, 0, 0), "{name}");
        let mut w = masked.clone();
        w.withdrawn_on = Some(Date::parse("2025-10-01").unwrap());
        for expect in [(0, 1, 0), (0, 0, 0)] {
            let c = store
                .ingest_federated_denials(&peer, "peer", copy(w.clone()))
                .await
                .unwrap();
            assert_eq!(c, expect, "{name}");
        }
        assert!(store
            .visible_denials(&local.org, &DenialFilter::default())
            .await
            .unwrap()
            .is_empty());
        // A copy whose parties the sender's agreement withheld is still kept (it lists, it
        // cannot match).
        let mut bare = notice("BAFA-10");
        bare.end_user = None;
        bare.end_user_aliases.clear();
        bare.consignees.clear();
        let c = store
            .ingest_federated_denials(
                &peer,
                "peer",
                vec![(
                    "u2".into(),
                    "seoul/u2".into(),
                    new(bare, Distribution::Community),
                )],
            )
            .await
            .unwrap();
        assert_eq!(c, (1, 0, 0), "{name}");
        // The local organisation cannot withdraw a federated copy.
        let id = store
            .visible_denials(
                &local.org,
                &DenialFilter {
                    include_withdrawn: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .iter()
            .find(|v| v.notice.reference == "BAFA-9")
            .unwrap()
            .id;
        let e = store
            .withdraw_denial(&local, id, Date::parse("2025-11-01").unwrap(), "x")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{name}");
    }
}
