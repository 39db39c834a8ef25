#!/usr/bin/env bash
# The fuzzing campaign of issue 14: run every cargo-fuzz target (or the ones named) to
# FUZZ_RUNS executions (default 10 million) or FUZZ_SECS seconds (default 1800, 30 minutes),
# whichever comes first, one after the other on one core, and print a table of counts.
#
#   bench/fuzz-campaign.sh                       # all 20 targets, 10M runs or 30 min each
#   bench/fuzz-campaign.sh eto_csv model_toml    # a subset
#   FUZZ_SECS=300 bench/fuzz-campaign.sh         # shorter budget per target
#   bench/fuzz-campaign.sh --seed-only           # only (re)seed fuzz/corpus/ from the real files
#   bench/fuzz-campaign.sh --list                # the targets
#
# Corpora grow in fuzz/corpus/<target> (kept between runs, so a second run resumes where the
# first stopped; not committed), crashes land in fuzz/artifacts/<target>, logs in
# bench/out/fuzz/<target>.log, the table in bench/out/fuzz/table.md (bench/out is ignored).
# Needs: a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Environment: FUZZ_RUNS, FUZZ_SECS, FUZZ_RSS_MB (default 2048), FUZZ_OUT (log directory),
# FUZZ_CORPUS (corpus root, default fuzz/corpus), FUZZ_BUILD=0 to skip the up-front build,
# FUZZ_SEED=0 to skip seeding, FUZZ_EXTRA (more libFuzzer flags), FUZZ_BUILD_FLAGS (more
# `cargo fuzz build/run` flags, the same for both so the run does not rebuild: for example
# "--codegen-units 16" for a faster build, "-s none" without AddressSanitizer, or
# "--target-dir fuzz/target-df" so that two campaigns with different features do not rebuild
# each other's binaries).
# One libFuzzer process at a time (-jobs=1 -workers=1): the machine is shared.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ="$ROOT/fuzz"
RUNS=${FUZZ_RUNS:-10000000}
SECS=${FUZZ_SECS:-1800}
RSS=${FUZZ_RSS_MB:-2048}
OUT=${FUZZ_OUT:-$ROOT/bench/out/fuzz}
CORPUS=${FUZZ_CORPUS:-$FUZZ/corpus}
SHARED=${SHARED_DIR:-$ROOT/../shared}

ALL=(model_toml model_json eto_csv controls_measure_toml controls_csl_csv controls_csl_json
    controls_eu_fsf_xml controls_uk_sanctions_csv controls_jp_eul_csv controls_ownership_csv
    controls_batch_csv store_time server_bodies web_form_params monitor_archive monitor_feed
    monitor_classify scenario_toml network_json controls_licence_register controls_denial_notices
    production_data trade_baci_csv trade_comtrade_csv trade_comext_csv)

# ---- seeding ------------------------------------------------------------------------------
# put TARGET NAME < content: one seed file (the name keeps seeds recognisable in the corpus).
put() { mkdir -p "$CORPUS/$1"; cat >"$CORPUS/$1/seed-$2"; }
# cp_seed TARGET FILE...: copy real files in as seeds (missing ones skipped).
cp_seed() {
    local t=$1 f
    shift
    mkdir -p "$CORPUS/$t"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$CORPUS/$t/seed-$(basename "$f")"
    done
}
# head_lines FILE N: the first N lines (large CSVs cut to a size the fuzzer mutates well).
head_lines() { head -n "$2" "$1"; }

seed() {
    local t=$1 C=$ROOT/crates
    case $t in
    model_toml | model_json)
        # Small consistent cuts of the shipped model: the whole of it (177 kB) is valid but makes
        # every input slow (76 exec/s); a 4- and a 12-item cut load in well under a millisecond.
        local n ext=toml flag=
        [ "$t" = model_json ] && ext=json flag=--json
        if command -v python3 >/dev/null && python3 -c 'import tomllib' 2>/dev/null; then
            for n in 4 12; do
                python3 "$ROOT/bench/fuzz/small_model.py" "$ROOT/data/default-model.toml" $n $flag |
                    put "$t" "model-$n.$ext"
            done
        elif [ "$t" = model_toml ]; then
            cp_seed "$t" "$ROOT/data/default-model.toml"
        fi
        ;;
    eto_csv)
        # The first byte picks the file (0 stages, 1 inputs, 2 providers, 3 sequence, 4 provision).
        local i=0 n
        for n in stages inputs providers sequence provision; do
            for src in "$SHARED/data/eto/$n.csv" "$C/chipwatch-data/tests/fixtures/eto-small/$n.csv.in"; do
                [ -f "$src" ] || continue
                { printf "\\$(printf '%03o' $i)"; head_lines "$src" 40; } | put "$t" "$n-$(basename "$(dirname "$src")")"
            done
            i=$((i + 1))
        done
        ;;
    controls_measure_toml) cp_seed "$t" "$ROOT"/data/controls/*.toml ;;
    controls_csl_csv) cp_seed "$t" "$C/chipwatch-controls/tests/fixtures/lists/csl.csv" ;;
    controls_csl_json) cp_seed "$t" "$C/chipwatch-controls/tests/fixtures/lists/csl.json" ;;
    controls_eu_fsf_xml) cp_seed "$t" "$C/chipwatch-controls/tests/fixtures/lists/eu-fsf.xml" ;;
    controls_uk_sanctions_csv) cp_seed "$t" "$C/chipwatch-controls/tests/fixtures/lists/uk-sanctions.csv" ;;
    controls_jp_eul_csv) cp_seed "$t" "$C"/chipwatch-controls/tests/fixtures/lists/jp-eul.{csv,tsv} ;;
    controls_ownership_csv) cp_seed "$t" "$C/chipwatch-controls/tests/fixtures/lists/ownership.csv" ;;
    controls_batch_csv)
        printf 'product,from,to,date,tpp,die_area_mm2\nH100,USA,CHN,,,\n,USA,DEU,2023-01-01,5000,800\n' | put "$t" params.csv
        printf 'product,from,to,origin,end_user,end_use,date,tpp,die_area_mm2,wavelength_nm,numerical_aperture,datacenter,material,hs_code,us_content_pct,us_direct_product\nNXT:2000i,NLD,CHN,,SMIC,,2023-09-01,,,193,1.35,,,,,\nH20,USA,CHN,USA,Huawei Technologies,military,2024-12-02,4000,800,,,true,,,30,true\ngallium,CHN,USA,,,,2024-12-02,,,,,,gallium,8112.92,,\n' | put "$t" mixed.csv
        ;;
    store_time)
        printf '1970-01-01' | put "$t" date
        printf '2024-02-29T12:00:00Z' | put "$t" datetime
        ;;
    server_bodies)
        printf '{"item":"N20","provider":"ASML","site":"Veldhoven","country":"NLD","metric":"capacity","value":60.5,"unit":"tools/yr","period":"2024-Q1","provenance":"survey","tlp":"amber","distribution":"community","sharing_group_id":null}' | put "$t" record.json
        printf '{"grantee_org_id":2,"items":["N20","*"],"metrics":["capacity"],"fields":["provider","value","period"],"granularity":"country","min_firms":3,"max_firm_share":0.6,"valid_from":"2024-01-01","valid_until":"2025-01-01"}' | put "$t" agreement.json
        printf '{"addressee_org_id":3,"legal_basis":"Regulation (EU) 2023/1781, Art. 25(1)","purpose":"crisis","scope_items":["N20"],"scope_metrics":["inventory_days"],"deadline":"2027-01-01T00:00:00Z","confidentiality":"confidential"}' | put "$t" request.json
        printf '{"instance":"nl.example","records":[],"checkpoint":null}' | put "$t" batch.json
        printf '{"product":"NXT:2000i","params":{"tpp":4800,"datacenter":true,"material":"gallium"},"from":"NLD","to":"CHN","origin":null,"end_user":"SMIC","end_use":"military","parties":[{"role":"consignee","name":"Acme"}],"date":"2023-09-01"}' | put "$t" determine.json
        ;;
    web_form_params)
        printf 'run=1&name=%%3Cb%%3EEUV%%20stop&s0_kind=export_block&s0_from=NLD&s0_to=CHN&s0_items=N20' | put "$t" export_block
        printf 'run=1&s0_kind=capacity_loss&s0_items=N20&s1_kind=export_block&s1_from=NLD&s1_items=N20,N21' | put "$t" two
        ;;
    monitor_archive | monitor_feed)
        cp_seed "$t" "$SHARED"/fixtures/seeds/*.txt
        local f
        for f in "$ROOT"/data/eval/monitor/en/00{1,2}*.txt "$ROOT"/data/eval/monitor/zh/001*.txt "$ROOT"/data/eval/monitor/ja/001*.txt; do
            cp_seed "$t" "$f"
        done
        if [ "$t" = monitor_feed ]; then
            printf '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>ASML export licence</title><link>https://e.x/1</link><pubDate>Tue, 13 Dec 2023 17:48:00 GMT</pubDate><description>&lt;p&gt;Body &amp;amp; more&lt;/p&gt;</description></item></channel></rss>' | put "$t" rss.xml
            printf '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title type="html">Gallium curbs</title><link href="https://e.x/2"/><updated>2023-07-03T10:00:00Z</updated><content type="html">&lt;p&gt;China restricts&lt;/p&gt;</content></entry></feed>' | put "$t" atom.xml
            printf '{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","url":"https://e.x/3","title":"Entity List","content_html":"<p>BIS adds</p>","date_published":"2024-12-02T00:00:00Z"}]}' | put "$t" feed.json
            printf '<html><head><title>Renesas fire</title></head><body><article><p>A fire at the Naka plant.</p></article></body></html>' | put "$t" page.html
        fi
        ;;
    monitor_classify)
        local f
        for f in "$ROOT"/data/eval/monitor/*/*.txt "$ROOT"/data/eval/monitor-heldout/*/*.txt; do
            cp_seed "$t" "$f"
        done
        ;;
    scenario_toml) cp_seed "$t" "$ROOT"/examples/scenarios/*.toml ;;
    network_json) cp_seed "$t" "$C"/chipwatch-analysis/tests/fixtures/tts_n{40,120}.json ;;
    controls_licence_register) cp_seed "$t" "$C"/chipwatch-controls/tests/fixtures/licences/*.toml ;;
    controls_denial_notices)
        printf '[[notice]]\nreference = "X-2025-1"\nauthority = "Example authority"\njurisdiction = "DEU"\ndenied_on = "2025-03-14"\ndestination = "CHN"\nend_user = "Example Wafer Co., Ltd."\nend_user_aliases = ["EWC"]\nreason_category = "military_end_use"\nreason = "example"\n[notice.item]\ndescription = "DUV immersion scanner"\nproduct = "NXT:2000i"\ncontrol_entry = "3B001.f.1"\n' | put "$t" notices.toml
        ;;
    production_data)
        # The first byte picks the file (0 fabs, 1 sources, 2 totals, 3 ATP, 4 demand,
        # 5 demand sources, 6 segment needs, 7 the chip trade matrix): one real file behind each.
        local i=0 f
        for f in fabs.csv sources.toml totals.toml atp.csv demand.toml demand-sources.toml segments.toml; do
            [ -f "$ROOT/data/fabs/$f" ] && { printf "\\x$(printf %02x $i)"; head -c 20000 "$ROOT/data/fabs/$f" | sed '$d'; } | put "$t" "$f"
            i=$((i + 1))
        done
        printf '\x07segment,from,to,value,currency,period,source\nlogic_leading,TWN,USA,40,USD,2023,fixture\nall,KOR,CHN,50,USD,2023,fixture\n' | put "$t" matrix.csv
        ;;
    trade_baci_csv)
        cp_seed "$t" "$C/chipwatch-trade/tests/fixtures/baci/"*.csv
        ;;
    trade_comtrade_csv)
        cp_seed "$t" "$C/chipwatch-trade/tests/fixtures/comtrade/"*.csv
        ;;
    trade_comext_csv)
        cp_seed "$t" "$C/chipwatch-trade/tests/fixtures/comext/"*.csv
        ;;
    *) echo "no seeds for $t" >&2 ;;
    esac
}

# ---- running ------------------------------------------------------------------------------
# The targets that link Apache DataFusion (the server and the trade importers) are built only with
# the fuzz crate's `datafusion` feature (fuzz/Cargo.toml): its sanitizer build is slow.
features_of() {
    case $1 in
    server_bodies | web_form_params | trade_*) echo "--features=datafusion" ;;
    *) echo "" ;;
    esac
}

run_one() {
    local t=$1 log="$OUT/$1.log" start end rc runs eps crash
    mkdir -p "$CORPUS/$t" "$FUZZ/artifacts/$t"
    local feat
    feat=$(features_of "$t")
    local bflags=${FUZZ_BUILD_FLAGS:-}
    local cmd="cargo +nightly fuzz run $feat $bflags $t $CORPUS/$t -- -runs=$RUNS -max_total_time=$SECS -rss_limit_mb=$RSS -jobs=1 -workers=1 -print_final_stats=1 ${FUZZ_EXTRA:-}"
    echo "== $t: $cmd" >&2
    echo "\$ $cmd" >"$log"
    start=$(date +%s)
    # With -jobs libFuzzer fuzzes in one child process whose output goes to fuzz-0.log in the
    # working directory (and is echoed at the end): keep that file out of the tree.
    mkdir -p "$OUT/work-$t"
    (cd "$OUT/work-$t" && cargo +nightly fuzz run $feat $bflags --fuzz-dir "$FUZZ" "$t" "$CORPUS/$t" -- \
        -runs="$RUNS" -max_total_time="$SECS" -rss_limit_mb="$RSS" -jobs=1 -workers=1 \
        -print_final_stats=1 ${FUZZ_EXTRA:-}) >>"$log" 2>&1
    rc=$?
    end=$(date +%s)
    # The child's own log (complete even if the parent was stopped early).
    [ -f "$OUT/work-$t/fuzz-0.log" ] && mv "$OUT/work-$t/fuzz-0.log" "$OUT/$t.job.log"
    local all
    all=$(cat "$log" "$OUT/$t.job.log" 2>/dev/null)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' <<<"$all" | grep -o '[0-9]*$' | sort -n | tail -1)
    if [ -z "$runs" ]; then # stopped or crashed: the last status line
        runs=$(grep -oE '^#[0-9]+' <<<"$all" | tr -d '#' | sort -n | tail -1)
    fi
    eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' <<<"$all" | grep -o '[0-9]*$' | tail -1)
    [ -z "$eps" ] && [ $((end - start)) -gt 0 ] && eps=$((${runs:-0} / (end - start)))
    crash=no
    grep -qE 'ERROR: libFuzzer|panicked at|SUMMARY: ' <<<"$all" && crash=YES
    [ "$rc" -ne 0 ] && [ "$crash" = no ] && crash="exit $rc"
    # Issue 14's bar: 10 million executions or 30 minutes without a crash.
    local status=partial
    if [ "$crash" = no ]; then
        if [ "${runs:-0}" -ge 10000000 ]; then status="done (10M)"; elif [ $((end - start)) -ge 1800 ]; then status="done (30 min)"; fi
    fi
    printf '| `%s` | %s | %s s | %s | %s | %s |\n' "$t" "${runs:-?}" $((end - start)) "${eps:-?}" "$crash" "$status" >>"$OUT/table.md"
}

main() {
    local seed_only=0 targets=()
    for a in "$@"; do
        case $a in
        --seed-only) seed_only=1 ;;
        --list) printf '%s\n' "${ALL[@]}"; exit 0 ;;
        -h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
        *) targets+=("$a") ;;
        esac
    done
    [ ${#targets[@]} -eq 0 ] && targets=("${ALL[@]}")
    if [ "${FUZZ_SEED:-1}" != 0 ]; then
        for t in "${targets[@]}"; do seed "$t"; done
    fi
    [ $seed_only = 1 ] && exit 0
    mkdir -p "$OUT"
    {
        echo "fuzz campaign $(date -u +%FT%TZ) on $(hostname): runs=$RUNS secs=$SECS"
        echo
        echo '| target | executions | time | exec/s | crash | status |'
        echo '| --- | --- | --- | --- | --- | --- |'
    } >"$OUT/table.md"
    # Build all targets once up front (release + debug assertions + address sanitizer, the
    # cargo-fuzz defaults), so the per-target times are fuzzing only.
    # Only with the DataFusion feature when a target asked for needs it.
    local build_feat=""
    for t in "${targets[@]}"; do [ -n "$(features_of "$t")" ] && build_feat="--features=datafusion"; done
    [ "${FUZZ_BUILD:-1}" = 0 ] || (cd "$ROOT" && cargo +nightly fuzz build $build_feat ${FUZZ_BUILD_FLAGS:-} --fuzz-dir "$FUZZ") >"$OUT/build.log" 2>&1 || {
        echo "fuzz build failed, see $OUT/build.log" >&2
        exit 1
    }
    for t in "${targets[@]}"; do run_one "$t"; done
    cat "$OUT/table.md"
    ! grep -q '| YES |\|| exit ' "$OUT/table.md"
}

main "$@"
