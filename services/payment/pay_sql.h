/* pay_sql.h - SQL fragments the payment service's files share: the JSON views of its
 * resources and their visibility. Every fragment names its table alias. */
#ifndef PAY_SQL_H
#define PAY_SQL_H

/* A bank account (jsonb) without its documents: what every version keeps. */
#define PAY_ACCT_CORE(a)                                                                          \
    "jsonb_build_object('id', " a ".id, 'org_id', " a ".org_id, 'institution_code', " a           \
    ".institution_code, 'prefecture_code', " a ".pref_code, 'purpose', " a ".purpose, "           \
    "'bank_code', " a ".bank_code, 'branch_code', " a ".branch_code, 'account_type', " a          \
    ".account_type, 'account_number', " a ".account_number, 'holder_name', " a ".holder_name, "   \
    "'holder_name_input', " a ".holder_name_input, 'assignment', CASE WHEN " a ".purpose = "      \
    "'assignment' THEN jsonb_build_object('assignee_name', " a ".assignee_name, 'from', " a       \
    ".assignment_from, 'to', " a ".assignment_to) END, 'effective_from', to_char(" a              \
    ".effective_from, 'YYYY-MM'), 'effective_to', to_char(" a ".effective_to, 'YYYY-MM'), "       \
    "'status', " a ".status, 'version', " a ".version, 'submitted_by', " a ".submitted_by, "      \
    "'submitted_at', " a ".submitted_at, 'reviewed_by', " a ".reviewed_by, 'reviewed_org_id', " a \
    ".reviewed_org_id, 'reviewed_at', " a ".reviewed_at, 'review_reason', " a ".review_reason, "  \
    "'created_at', " a ".created_at, 'updated_at', " a ".updated_at)"

/* {"documents": [...]} of an account, oldest first, without their content. */
#define PAY_ACCT_DOCS(a)                                                                         \
    "jsonb_build_object('documents', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', d.id, " \
    "'version', d.version, 'kind', d.kind, 'content_type', d.content_type, 'size_bytes', "       \
    "d.size_bytes, 'sha256', d.sha256, 'uploaded_by', d.uploaded_by, 'uploaded_at', "            \
    "d.uploaded_at) ORDER BY d.uploaded_at, d.id), '[]'::jsonb) FROM "                           \
    "payment.bank_account_documents d WHERE d.account_id = " a ".id))"

/* $1 viewer ('inst' | 'fed'), $2 the caller's organisation, $3 its prefecture. */
#define PAY_ACCT_VISIBLE(a)                                                        \
    "(($1::text = 'inst' AND " a ".org_id = $2::uuid) OR ($1::text = 'fed' AND " a \
    ".pref_code = $3::text))"

/* A federation's source account (H-10), jsonb. */
#define PAY_PAYER_CORE(p)                                                                    \
    "jsonb_build_object('id', " p ".id, 'org_id', " p ".org_id, 'prefecture_code', " p       \
    ".pref_code, 'bank_code', " p ".bank_code, 'branch_code', " p ".branch_code, "           \
    "'account_type', " p ".account_type, 'account_number', " p ".account_number, "           \
    "'holder_name', " p ".holder_name, 'client_code', " p ".client_code, "                   \
    "'destination_bank_codes', to_jsonb(" p ".bank_codes), 'is_default', " p ".is_default, " \
    "'status', " p ".status, 'version', " p ".version, 'updated_by', " p ".updated_by, "     \
    "'created_at', " p ".created_at, 'updated_at', " p ".updated_at)"

#endif
