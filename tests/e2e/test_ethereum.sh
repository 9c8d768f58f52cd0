#!/usr/bin/env bash
# Real world: the crypto_ethereum table schemas (blockchain-etl, read in place from
# ../shared/data/ethereum) and real mainnet rows exported by ethereum-etl's tests.
# The NDJSON rows carry keys the tables do not have (type, item_id, block_timestamp,
# receipt_*, l1_*): refused with "No such field" as bq load does, loaded with
# --ignore-unknown-values. Real bad records stay bad: a contract without its
# REQUIRED block_number, and token CSVs with an empty REQUIRED block_number.
# CSV cannot carry the REPEATED columns of blocks/transactions/logs/traces: refused;
# their flat variants (made here from the real schemas) exercise the jagged rows and
# the extra columns of the real CSVs.
. "$(dirname "$0")/lib.sh"
need_shared data/ethereum
E=$SHARED/data/ethereum
R=$E/data/tests/resources
WH="duckdb://$TMP/wh.duckdb"
DS=crypto_ethereum

# registry: symlinks to the raw (export) schemas, crypto_ethereum/<table>.json
reg=$TMP/reg/$DS
mkdir -p "$reg"
for s in "$E"/schemas/raw/schemas/*.json; do ln -s "$s" "$reg/"; done
TABLES="blocks contracts logs receipts token_transfers tokens traces transactions"
check_eq "eight raw schemas" "$(ls "$reg" | sed 's/\.json$//' | tr '\n' ' ' | sed 's/ $//')" "$TABLES"
expect_exit 0 -- "$SLUICE" schema apply --schemas "$TMP/reg" --warehouse "$WH"
check_grep "schema apply" "8 tables: 8 created" "$TMP/out"

# table name of a data file: expected_X.json / expected_X.csv / X.csv -> X (if a table)
table_of() {
    local b
    b=$(basename "$1")
    b=${b#expected_}
    b=${b%.*}
    case " $TABLES " in *" $b "*) echo "$b" ;; esac
}
q() { "$SLUICE" query --warehouse "$WH" --format csv "$1" | sed -n 2p; }
rows_of() { grep -c . "$1"; }

# ---- NDJSON ----------------------------------------------------------------------
# files whose keys are all fields of their table (every other file has extra keys)
CLEAN=" test_export_blocks_job/blocks_with_transactions_and_withdrawals/expected_blocks.json
        test_export_receipts_job/receipts_with_logs/expected_logs.json "
# the real reject: no block_number, a REQUIRED field of contracts
REAL_REJECT=test_export_contracts_job/erc721_contract/expected_contracts.json
declare -A want
for t in $TABLES; do want[$t]=0; done
n_json=0
unmapped=""
while IFS= read -r f; do
    rel=${f#"$R"/}
    t=$(table_of "$f")
    if [ -z "$t" ]; then unmapped="$unmapped $(basename "$f")"; continue; fi
    n_json=$((n_json + 1))
    rows=$(rows_of "$f")
    # without --ignore-unknown-values
    "$SLUICE" validate --schemas "$TMP/reg" --table "$DS.$t" --max-bad-records 100000 \
        --rejects "$TMP/rej.ndjson" "$f" >"$TMP/out" 2>"$TMP/err"
    if [ "$rel" = "$REAL_REJECT" ]; then
        check_eq "$rel: REQUIRED reject" "$(grep -c '"field":"block_number","reason":"Only optional fields can be set to NULL' "$TMP/rej.ndjson")" "1"
    elif [[ "$CLEAN" == *" $rel"* ]]; then
        check_grep "$rel: clean without --ignore-unknown-values" "$rows rows, $rows valid, 0 rejected" "$TMP/out"
    elif [ "$rows" -gt 0 ]; then
        check_eq "$rel: every row rejected" "$(wc -l < "$TMP/rej.ndjson" | tr -d ' ')" "$rows"
        check_eq "$rel: for an unknown key" "$(grep -c '"reason":"No such field: [a-z_0-9]*\."' "$TMP/rej.ndjson")" "$rows"
    fi
    # with --ignore-unknown-values: everything loads except the real reject
    if [ "$rel" = "$REAL_REJECT" ]; then
        expect_exit 3 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WH" \
            --ignore-unknown-values --rejects "$TMP/rej.ndjson" "$f"
        check_grep "$rel: still rejected" "1 rows, 0 valid, 1 rejected" "$TMP/out"
        check_grep "$rel: names the REQUIRED field" '"field":"block_number".*Only optional fields' "$TMP/rej.ndjson"
        check_grep "$rel: refused" "nothing of this file was loaded" "$TMP/err"
    else
        expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WH" \
            --ignore-unknown-values "$f"
        check_grep "$rel: zero rejects" "$rows rows, $rows valid, 0 rejected" "$TMP/out"
        want[$t]=$((want[$t] + rows))
    fi
done < <(find "$R" -name '*.json' | sort)
check_eq "NDJSON files mapped to a table" "$n_json" "19"
check_eq "files without a table" "$(echo $unmapped | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "expected_marketplace.json expected_shop.json geth_traces.json geth_traces.json geth_traces.json geth_traces.json geth_traces.json "
for t in $TABLES; do
    check_eq "$t: rows loaded from NDJSON" "$(q "SELECT count(*) FROM $DS.$t")" "${want[$t]}"
done
check_eq "contracts: the real reject did not land" \
    "$(q "SELECT count(*) FROM $DS.contracts WHERE address = '0x06012c8cf97bead5deae237070f9587f8e7a266d'")" "0"

# spot checks
check_eq "NUMERIC above int64 (total_difficulty)" \
    "$(q "SELECT DISTINCT total_difficulty::HUGEINT FROM $DS.blocks WHERE number = 17173049")" "58750003716598352816469"
check_eq "NUMERIC wei value above int64" \
    "$(q "SELECT DISTINCT value::HUGEINT FROM $DS.transactions WHERE hash = '0xcf08c55d27c2b1988c58517f7f2d027e0cb6412afd272b7abc7706ce72e5e354'")" "32000000000000000000"
check_eq "REPEATED RECORD: withdrawals" \
    "$(q "SELECT DISTINCT len(withdrawals) || ':' || withdrawals[1].index || ':' || withdrawals[1].validator_index || ':' || withdrawals[1].amount || ':' || withdrawals[1].address FROM $DS.blocks WHERE number = 17173049")" \
    "16:2210752:540230:45762059:0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f"
check_eq "REPEATED STRING: log topics" \
    "$(q "SELECT len(topics) || ':' || topics[1] FROM $DS.logs WHERE transaction_hash = '0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0' AND log_index = 0")" \
    "3:0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
check_eq "REPEATED INT64: trace_address is a list" "$(q "SELECT DISTINCT typeof(trace_address) FROM $DS.traces")" "BIGINT[]"
check_eq "JSON number into STRING kept exactly" \
    "$(q "SELECT value FROM $DS.token_transfers WHERE transaction_hash = '0xeb107a40ba73a50c79a9f2026e902d758d1c5e5e211f7a7db1b294f88f118dd0' AND log_index = 0")" \
    "7056176614974947328"
check_eq "contracts: function_sighashes" \
    "$(q "SELECT count(*) FROM $DS.contracts WHERE len(function_sighashes) > 0")" "$(q "SELECT count(*) FROM $DS.contracts")"
check_eq "tokens: number 0 into STRING" "$(q "SELECT decimals || '/' || total_supply FROM $DS.tokens WHERE block_number = 2112234")" "0/0"
expect_exit 0 -- "$SLUICE" query --warehouse "$WH" --format json \
    "SELECT number, timestamp, miner FROM $DS.blocks WHERE number = 1755634 LIMIT 1"
check_grep "block 1755634" '"timestamp":1466669557' "$TMP/out"

# ---- CSV -------------------------------------------------------------------------------
WC="duckdb://$TMP/csv.duckdb"
qc() { "$SLUICE" query --warehouse "$WC" --format csv "$1" | sed -n 2p; }
n_csv=0
while IFS= read -r f; do
    rel=${f#"$R"/}
    t=$(table_of "$f")
    [ -n "$t" ] || { ko "$rel: no table"; continue; }
    n_csv=$((n_csv + 1))
    rows=$(($(rows_of "$f") - 1))
    [ "$rows" -lt 0 ] && rows=0
    case $t in
    blocks | transactions | logs | traces)
        # REPEATED columns: CSV cannot carry them (BigQuery refuses such a load too)
        expect_exit 2 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WC" --header "$f"
        check_grep "$rel: REPEATED refused for CSV" "CSV cannot carry RECORD or REPEATED fields" "$TMP/err"
        ;;
    tokens)
        # ethereum-etl leaves block_number empty here; it is REQUIRED: a real reject
        expect_exit 3 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WC" --header \
            --rejects "$TMP/rej.ndjson" "$f"
        check_grep "$rel: empty REQUIRED block_number" '"record":1,.*"field":"block_number","reason":"Only optional fields' "$TMP/rej.ndjson"
        ;;
    receipts)
        # extra columns l1_* (no such field); blob_gas_* absent from the file
        expect_exit 3 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WC" --header "$f"
        check_grep "$rel: unknown header column" 'header column 11 "l1_fee" is not a field' "$TMP/err"
        expect_exit 3 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WC" \
            --skip-leading-rows 1 --rejects "$TMP/rej.ndjson" "$f"
        check_eq "$rel: by position, every row has too many values" \
            "$(grep -c 'Too many values in row: 14 columns, the table has 12' "$TMP/rej.ndjson")" "$rows"
        expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WC" \
            --header --ignore-unknown-values "$f"
        check_grep "$rel: loads by header" "$rows rows, $rows valid, 0 rejected" "$TMP/out"
        ;;
    *)
        expect_exit 0 -- "$SLUICE" load --schemas "$TMP/reg" --table "$DS.$t" --warehouse "$WC" --header "$f"
        check_grep "$rel: loads" "$rows rows, $rows valid, 0 rejected" "$TMP/out"
        ;;
    esac
done < <(find "$R" -name '*.csv' | sort)
check_eq "CSV files mapped to a table" "$n_csv" "25"
check_eq "csv receipts" "$(qc "SELECT count(*) || ':' || count(blob_gas_price) || ':' || sum(gas_used) || ':' || min(effective_gas_price) FROM $DS.receipts")" \
    "4:0:143706:50000000000"
check_eq "csv receipts root" "$(qc "SELECT root FROM $DS.receipts WHERE transaction_index = 0")" \
    "0x2ec017656e20275e92cbd1cdee9aeb43c1a090a5e217797da7c58dbf5be50e5b"
check_eq "csv receipts: empty contract_address is NULL" "$(qc "SELECT count(*) FROM $DS.receipts WHERE contract_address IS NULL")" "4"
tt_values=$(find "$R" -name '*token_transfers.csv' -exec tail -n +2 {} \; | cut -d, -f4 | LC_ALL=C sort | tr '\n' ';' | sed 's/;$//')
check_eq "csv token_transfers: values (STRING) as in the files" "$(qc "SELECT count(*) || ':' || string_agg(value, ';' ORDER BY value) FROM $DS.token_transfers")" "4:$tt_values"
check_eq "csv tokens: nothing landed" "$(qc "SELECT count(*) FROM $DS.tokens")" "0"

# Flat variants of the REPEATED tables (the REPEATED columns as STRING), to load the
# real CSVs: blocks.csv has 21 of the 23 columns (jagged without a header),
# transactions.csv has block_timestamp (not a field) and lacks the blob columns.
if command -v python3 >/dev/null; then
    mkdir -p "$TMP/flat/$DS"
    for t in blocks transactions; do
        python3 - "$reg/$t.json" "$TMP/flat/$DS/$t.json" <<'EOF'
import json, sys
fields = json.load(open(sys.argv[1]))
for f in fields:
    if f.get("mode", "").upper() == "REPEATED":
        f.pop("fields", None)
        f["type"] = "STRING"
        f["mode"] = "NULLABLE"
json.dump(fields, open(sys.argv[2], "w"), indent=1)
EOF
    done
    WF="duckdb://$TMP/flat.duckdb"
    BW=$R/test_export_blocks_job/blocks_with_transactions_and_withdrawals
    expect_exit 3 -- "$SLUICE" load --schemas "$TMP/flat" --table "$DS.blocks" --warehouse "$WF" \
        --skip-leading-rows 1 --rejects "$TMP/rej.ndjson" "$BW/expected_blocks.csv"
    check_eq "blocks.csv by position: 2 jagged rows" "$(grep -c 'Too few values in row: 21 columns, the table has 23 (missing blob_gas_used' "$TMP/rej.ndjson")" "2"
    n_blocks=0
    for f in "$R"/test_export_blocks_job/*/expected_blocks.csv; do
        expect_exit 0 -- "$SLUICE" load --schemas "$TMP/flat" --table "$DS.blocks" --warehouse "$WF" \
            --skip-leading-rows 1 --allow-jagged-rows "$f"
        check_grep "$f: jagged rows load" " 0 rejected" "$TMP/out"
        n_blocks=$((n_blocks + $(rows_of "$f") - 1))
    done
    check_eq "flat blocks rows" "$("$SLUICE" query --warehouse "$WF" --format csv "SELECT count(*) || ':' || count(blob_gas_used) || ':' || count(excess_blob_gas) FROM $DS.blocks" | sed -n 2p)" "$n_blocks:0:0"
    expect_exit 0 -- "$SLUICE" query --warehouse "$WF" --format csv \
        "SELECT total_difficulty::HUGEINT, base_fee_per_gas, withdrawals LIKE '{\"index\":2210752,\"validator_index\":540230,%' FROM $DS.blocks WHERE number = 17173049"
    check_eq "flat blocks: NUMERIC, INT64, quoted withdrawals text" "$(sed -n 2p "$TMP/out")" "58750003716598352816469,80869370967,true"
    # transactions.csv by header: block_timestamp must be ignored, blob columns NULL
    TX=$BW/expected_transactions.csv
    expect_exit 3 -- "$SLUICE" load --schemas "$TMP/flat" --table "$DS.transactions" --warehouse "$WF" --header "$TX"
    check_grep "transactions.csv: block_timestamp is no field" '"block_timestamp" is not a field' "$TMP/err"
    n_tx=0
    for f in "$R"/test_export_blocks_job/*/expected_transactions.csv; do
        expect_exit 0 -- "$SLUICE" load --schemas "$TMP/flat" --table "$DS.transactions" --warehouse "$WF" \
            --header --ignore-unknown-values "$f"
        check_grep "$f: loads by header" " 0 rejected" "$TMP/out"
        n=$(($(rows_of "$f") - 1)); [ "$n" -lt 0 ] && n=0
        n_tx=$((n_tx + n))
    done
    expect_exit 0 -- "$SLUICE" query --warehouse "$WF" --format csv \
        "SELECT count(*), count(max_fee_per_blob_gas), sum(value)::HUGEINT FROM $DS.transactions"
    want_sum=$(python3 -c '
import csv, glob, sys
s = 0
for f in glob.glob(sys.argv[1] + "/test_export_blocks_job/*/expected_transactions.csv"):
    s += sum(int(r["value"]) for r in csv.DictReader(open(f)))
print(s)' "$R")
    check_eq "flat transactions: rows, NULL blob column, exact NUMERIC sum" "$(sed -n 2p "$TMP/out")" "$n_tx,0,$want_sum"
    check_eq "flat transactions: wei above int64 from CSV" \
        "$("$SLUICE" query --warehouse "$WF" --format csv "SELECT value::HUGEINT FROM $DS.transactions WHERE hash = '0xcf08c55d27c2b1988c58517f7f2d027e0cb6412afd272b7abc7706ce72e5e354'" | sed -n 2p)" \
        "32000000000000000000"
else
    echo "note: python3 not found, flat-variant CSV checks skipped"
fi

finish
