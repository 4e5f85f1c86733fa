//! The OPAC's words, in Japanese and English, in one place: interface strings, field
//! labels, and the names of languages, material types and item statuses.
//!
//! Templates see the table of the page's language as `t` (`{{ t.search_button }}`);
//! Rust code asks [`text`]. Placeholders are `{0}`, `{1}` … so that the two languages may
//! order them differently; [`fill`] (the `fill` filter in templates) puts values in.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::lang::Lang;

/// (key, 日本語, English).
const MESSAGES: &[(&str, &str, &str)] = &[
    // The frame of every page.
    ("site_name", "栞 Shiori", "Shiori"),
    ("skip_to_content", "本文へ移動", "Skip to main content"),
    ("language_nav", "言語", "Language"),
    (
        "footer_credit",
        "書誌データ: 米国議会図書館 (Library of Congress、パブリックドメイン)、国立国会図書館 (JAPAN/MARC) ほか",
        "Bibliographic data: Library of Congress (public domain), National Diet Library (JAPAN/MARC) and others",
    ),
    ("footer_powered", "Shiori 図書館システム", "Shiori library system"),
    ("footer_api", "検索 API", "Search API"),
    // The list of libraries.
    ("home_title", "図書館の一覧", "Libraries"),
    ("home_intro", "蔵書を検索する図書館を選んでください。", "Choose a library to search its catalogue."),
    ("home_records", "{0} 件の書誌", "{0} records"),
    ("home_empty", "まだ図書館が登録されていません。", "No libraries are registered yet."),
    // The search form.
    ("library_search_title", "{0} 蔵書検索", "{0} catalogue"),
    ("search_label", "蔵書検索", "Search the catalogue"),
    (
        "search_hint",
        "書名・著者名・件名・ISBN など。ひらがな・ローマ字でも探せます。",
        "Title, author, subject, ISBN… Hiragana and romaji work too.",
    ),
    ("search_button", "検索", "Search"),
    ("mode_label", "一致方法", "Match"),
    ("mode_keywords", "キーワード", "Keywords"),
    ("mode_exact", "完全一致（書名）", "Exact title"),
    ("mode_prefix", "前方一致（書名）", "Title begins with"),
    ("suggest_title", "タイトル", "Title"),
    ("suggest_author", "著者", "Author"),
    (
        "suggest_count",
        "{0} 件の候補があります。上下の矢印キーで選べます。",
        "{0} suggestions. Use the up and down arrow keys to choose.",
    ),
    // Results.
    ("results_heading", "検索結果", "Results"),
    ("results_title", "「{0}」の検索結果", "Results for “{0}”"),
    ("results_count", "{0} 件中 {1}–{2} 件目", "{1}–{2} of {0}"),
    ("results_none", "「{0}」に一致する資料は見つかりませんでした。", "Nothing matches “{0}”."),
    (
        "results_none_hint",
        "ことばを減らす、ひらがなで入力する、絞り込みを解除するなどをお試しください。",
        "Try fewer words, hiragana, or removing filters.",
    ),
    (
        "results_relaxed",
        "「{0}」をすべて含む資料はありませんでした。近い資料を表示しています。",
        "No record has all of “{0}”; these come close.",
    ),
    (
        "results_near",
        "「{0}」のとおりに書かれた資料はありませんでした。読みや綴りの近い資料、語を一つ除いて一致する資料を表示しています。",
        "Nothing is written exactly “{0}”; these are read or spelt alike, or have every word but one.",
    ),
    ("results_unmatched", "一致する資料がない語: {0}", "Words no record has: {0}"),
    ("results_page_empty", "このページには結果がありません。", "There are no results on this page."),
    ("results_first_page", "最初のページへ", "Go to the first page"),
    ("did_you_mean", "もしかして:", "Did you mean:"),
    ("sort_label", "並べ替え", "Sort"),
    ("sort_relevance", "適合度順", "Relevance"),
    ("sort_newest", "新しい順", "Newest"),
    ("sort_oldest", "古い順", "Oldest"),
    ("sort_title", "五十音順", "Title (kana order)"),
    ("facets_heading", "絞り込み", "Refine"),
    ("facet_ndc", "分類 (NDC)", "Class (NDC)"),
    ("facet_decade", "出版年代", "Decade"),
    ("facet_year", "出版年", "Year"),
    ("facet_lang", "言語", "Language"),
    ("facet_material", "資料種別", "Material"),
    ("facet_author", "著者", "Author"),
    ("facet_subject", "件名", "Subject"),
    ("facet_branch", "所蔵館", "Held at"),
    ("facet_available", "貸出可能", "Available now"),
    ("active_filters", "絞り込み条件", "Active filters"),
    ("remove_filter", "{0} を解除", "Remove {0}"),
    ("clear_filters", "すべて解除", "Clear all"),
    ("decade_value", "{0}年代", "{0}s"),
    ("paging_label", "ページ", "Pages"),
    ("page_prev", "前へ", "Previous"),
    ("page_next", "次へ", "Next"),
    ("page_n", "{0} ページ", "Page {0}"),
    // Availability.
    ("avail_heading", "所蔵・貸出状況", "Availability"),
    ("avail_none", "所蔵なし", "No copies"),
    ("avail_some", "貸出可 {0} / {1} 冊", "{0} of {1} available"),
    ("avail_all_out", "すべて貸出中 ({0} 冊)", "All {0} copies out"),
    ("holds_waiting", "予約 {0} 件", "{0} holds"),
    ("items_heading", "所蔵資料", "Copies"),
    ("items_none", "この資料の所蔵はありません。", "The library holds no copies of this title."),
    ("col_branch", "所蔵館", "Library"),
    ("col_location", "配架場所", "Location"),
    ("col_call_number", "請求記号", "Call number"),
    ("col_barcode", "資料番号", "Barcode"),
    ("col_status", "状態", "Status"),
    ("col_due", "返却予定日", "Due"),
    ("status_available", "貸出可", "Available"),
    ("status_on_loan", "貸出中", "On loan"),
    ("status_on_hold_shelf", "予約取置中", "On hold shelf"),
    ("status_in_transit", "回送中", "In transit"),
    ("status_missing", "所在不明", "Missing"),
    ("status_withdrawn", "除籍", "Withdrawn"),
    ("status_reference", "館内閲覧のみ", "Reference only"),
    // The record page.
    ("record_details", "書誌詳細", "Details"),
    ("field_title", "タイトル", "Title"),
    ("field_title_reading", "タイトルのよみ", "Title reading"),
    ("reading_generated", "（自動付与）", "(generated)"),
    ("field_titles", "別タイトル", "Other titles"),
    ("field_title_romanised", "ローマ字タイトル", "Romanised title"),
    ("field_authors", "著者", "Authors"),
    ("field_author_readings", "著者のよみ", "Author readings"),
    ("field_edition", "版", "Edition"),
    ("field_publishers", "出版", "Publication"),
    ("field_year", "出版年", "Year"),
    ("field_extent", "形態", "Physical description"),
    ("field_series", "シリーズ", "Series"),
    ("field_subjects", "件名", "Subjects"),
    ("field_notes", "注記・内容", "Notes and contents"),
    ("field_isbn", "ISBN", "ISBN"),
    ("field_issn", "ISSN", "ISSN"),
    ("field_ndc", "NDC 分類", "NDC"),
    ("field_classes", "その他の分類", "Other classification"),
    ("field_languages", "言語", "Language"),
    ("field_material", "資料種別", "Material"),
    ("field_control_number", "書誌番号 (001)", "Control number (001)"),
    ("field_source", "作成機関", "Record source"),
    ("field_bib_id", "書誌 ID", "Record ID"),
    ("field_updated", "最終更新", "Last updated"),
    ("hold_button", "予約する", "Place a hold"),
    ("record_back", "検索結果に戻る", "Back to the results"),
    // A scrollable table's own name, apart from its section's (axe: landmark-unique).
    ("table_suffix", "の表", " (table)"),
    ("volumes_heading", "この資料の他の巻", "Other volumes of this work"),
    ("back_to_record", "資料の詳細に戻る", "Back to the record"),
    ("marc_heading", "MARC 表示", "MARC view"),
    ("marc_tag", "タグ", "Tag"),
    ("marc_indicators", "指示子", "Indicators"),
    ("marc_data", "データ", "Data"),
    ("permalink", "この資料への固定リンク", "Permanent link to this record"),
    ("downloads", "書誌データのダウンロード", "Download the record"),
    ("download_marcxml", "MARCXML", "MARCXML"),
    ("download_mrc", "MARC (ISO 2709)", "MARC (ISO 2709)"),
    ("download_json", "JSON", "JSON"),
    // Errors.
    ("error_title_404", "ページが見つかりません", "Page not found"),
    ("error_title_400", "検索条件を確認してください", "Please check your request"),
    ("error_title_500", "エラーが発生しました", "Something went wrong"),
    ("error_all_libraries", "図書館の一覧へ", "All libraries"),
    ("error_back_search", "蔵書検索へ戻る", "Back to the search"),
    // Staff pages.
    ("staff_login_title", "職員ログイン", "Staff login"),
    ("staff_login_intro", "この図書館の職員用ページです。", "The staff pages of this library."),
    ("staff_username", "ユーザー名", "Username"),
    ("staff_password", "パスワード", "Password"),
    (
        "staff_totp",
        "確認コード（認証アプリの 6 桁、またはリカバリーコード）",
        "Code (6 digits from your authenticator app, or a recovery code)",
    ),
    ("staff_login_button", "ログイン", "Log in"),
    (
        "staff_login_wrong",
        "ユーザー名、パスワードまたは確認コードが正しくありません。",
        "The username, password or code is wrong.",
    ),
    (
        "staff_login_need_code",
        "認証アプリの確認コードを入力し、パスワードももう一度入力してください。",
        "Enter the code from your authenticator app, and your password again.",
    ),
    (
        "staff_login_locked",
        "ログインの失敗が続いたため、{0} までログインできません。",
        "Too many failed attempts: you can log in again after {0}.",
    ),
    (
        "staff_rate_limited",
        "ログインの試行が多すぎます。{0} 秒後にもう一度お試しください。",
        "Too many login attempts from your network: try again in {0} seconds.",
    ),
    ("staff_home_title", "職員ページ", "Staff pages"),
    ("staff_logged_in_as", "{0}（{1}）としてログインしています。", "Logged in as {0} ({1})."),
    (
        "staff_session_expires",
        "操作がないまま {0} になると自動的にログアウトします。",
        "If idle, you will be logged out at {0}.",
    ),
    ("staff_functions", "使える機能", "What you may do"),
    ("staff_logout_button", "ログアウト", "Log out"),
    ("staff_change_password", "パスワードを変更", "Change your password"),
    ("staff_opac_link", "蔵書検索 (OPAC) へ", "To the catalogue (OPAC)"),
    ("staff_password_title", "パスワードの変更", "Change your password"),
    (
        "staff_password_must",
        "一時パスワードでログインしました。続けるには、ご自分のパスワードに変更してください。",
        "You logged in with a one-time password: choose your own to go on.",
    ),
    (
        "staff_password_rules",
        "12 文字以上で、よく使われるパスワードやユーザー名を含むものは使えません。",
        "At least 12 characters; common passwords and ones containing your username are refused.",
    ),
    ("staff_password_current", "現在のパスワード", "Current password"),
    ("staff_password_new", "新しいパスワード", "New password"),
    ("staff_password_confirm", "新しいパスワード（確認）", "New password again"),
    ("staff_password_button", "変更する", "Change"),
    ("staff_password_mismatch", "新しいパスワードが一致しません。", "The two new passwords differ."),
    ("staff_password_wrong", "現在のパスワードが正しくありません。", "The current password is wrong."),
    ("staff_password_weak", "このパスワードは使えません（{0}）。", "This password cannot be used ({0})."),
    ("staff_refused_title", "この操作はできません", "Not allowed"),
    (
        "staff_csrf_message",
        "フォームの有効期限が切れたか、このサイト以外から送信されました。ページを読み込み直してからもう一度お試しください。",
        "The form has expired or was not sent from this site. Reload the page and try again.",
    ),
    ("staff_forbidden_message", "このページを使う権限がありません。", "Your account may not use this page."),
    (
        "staff_other_library_message",
        "別の図書館の職員としてログインしています。",
        "You are logged in to another library.",
    ),
    ("staff_login_link", "この図書館の職員ログインへ", "To this library's staff login"),
    ("role_tenant_admin", "図書館管理者", "Library administrator"),
    ("role_cataloguer", "目録担当", "Cataloguer"),
    ("role_circulation", "貸出担当", "Circulation"),
    ("role_read_only", "閲覧のみ", "Read only"),
    ("role_operator", "運用管理者", "Operator"),
    ("function_view", "資料と所蔵の閲覧", "View records and copies"),
    ("function_catalogue_edit", "書誌・所蔵の編集", "Edit records and copies"),
    ("function_import", "一括登録", "Bulk imports"),
    ("function_circulation", "貸出・返却・延長", "Checkout, checkin, renewals"),
    ("function_holds", "予約", "Holds"),
    ("function_patrons", "利用者情報", "Patron records"),
    ("function_reports", "統計・帳票", "Statistics and reports"),
    ("function_audit", "ログの閲覧", "Audit and access logs"),
    ("function_staff_admin", "職員と権限の管理", "Staff accounts and role switches"),
    ("function_manage_tenants", "図書館の作成と削除", "Create and delete libraries"),
    // The circulation desk (staff).
    ("staff_desk_link", "貸出・返却カウンター", "Circulation desk"),
    ("desk_nav", "カウンター業務", "Desk"),
    ("desk_title", "貸出・返却", "Checkout and checkin"),
    ("desk_patron_title", "利用者照会", "Patron lookup"),
    ("desk_hold_shelf_title", "予約取置棚", "Hold shelf"),
    ("desk_due_title", "本日返却予定・延滞", "Due today and overdue"),
    ("desk_mode_checkout", "貸出", "Checkout"),
    ("desk_mode_checkin", "返却", "Checkin"),
    ("desk_branch", "カウンターの館", "Desk branch"),
    ("desk_branch_own", "資料の所蔵館", "The item's own branch"),
    ("desk_scan_card", "利用者カードを読み取ってください", "Scan the patron's card"),
    ("desk_scan_item", "貸し出す資料のバーコードを読み取ってください", "Scan the items to lend"),
    ("desk_scan_item_checkin", "返却する資料のバーコードを読み取ってください", "Scan the items returned"),
    ("desk_scan_button", "実行", "Enter"),
    (
        "desk_scan_hint",
        "バーコードリーダーで読み取るか、番号を入力して Enter を押してください。",
        "Scan with the barcode reader, or type the number and press Enter.",
    ),
    ("desk_blocked", "貸出停止中: {0}", "Borrowing blocked: {0}"),
    ("desk_patron_counts", "貸出中 {0} 点・予約 {1} 件", "{0} on loan, {1} holds"),
    ("desk_end_patron", "この利用者の手続きを終える", "Done with this patron"),
    ("desk_results", "処理結果", "Results"),
    ("desk_no_results", "まだ処理はありません。", "Nothing scanned yet."),
    ("desk_kind_ok", "完了", "Done"),
    ("desk_kind_warn", "要対応", "Action needed"),
    ("desk_kind_error", "エラー", "Error"),
    ("desk_patron_ok", "利用者: {0}（{1}）", "Patron: {0} ({1})"),
    ("desk_checkout_ok", "貸出: {0}「{1}」返却期限 {2}", "Lent: {0} “{1}”, due {2}"),
    ("desk_checkin_ok", "返却: {0}「{1}」", "Returned: {0} “{1}”"),
    ("desk_days_overdue", "（{0} 日延滞）", "({0} days overdue)"),
    (
        "desk_checkin_hold_ready",
        "予約資料: {0}「{1}」を取置棚へ（利用者 {2}、取置期限 {3}）",
        "Hold: put {0} “{1}” on the hold shelf (patron {2}, until {3})",
    ),
    ("desk_checkin_transit", "回送: {0}「{1}」を {2} へ送ってください", "In transit: send {0} “{1}” to {2}"),
    ("desk_checkin_not_on_loan", "貸出中ではありません: {0}「{1}」（{2}）", "Not on loan: {0} “{1}” ({2})"),
    ("desk_card", "利用者番号", "Card number"),
    ("desk_lookup_button", "照会", "Look up"),
    ("desk_no_patron", "利用者番号 {0} の利用者は見つかりません。", "There is no patron with card {0}."),
    ("desk_category", "利用者区分", "Category"),
    ("desk_home_branch", "登録館", "Home branch"),
    ("desk_expiry", "有効期限", "Card expires"),
    ("desk_blocked_label", "貸出停止", "Blocked"),
    ("desk_opac_login", "マイページのパスワード", "OPAC password"),
    ("desk_yes", "設定済み", "Set"),
    ("desk_no", "未設定", "Not set"),
    ("desk_show_button", "表示", "Show"),
    ("desk_place_hold", "予約を受け付ける", "Place a hold"),
    ("desk_hold_record", "資料のバーコードまたは書誌番号", "Item barcode or record number"),
    ("desk_hold_pickup", "受取館", "Pickup branch"),
    ("desk_hold_button", "予約する", "Place hold"),
    ("desk_hold_cancel", "取消", "Cancel"),
    ("desk_hold_cancel_label", "予約 {0} を取り消す", "Cancel hold {0}"),
    // The button's visible text is part of its accessible name (WCAG 2.5.3).
    ("desk_hold_cancel_button", "取り消す", "Cancel"),
    ("desk_hold_placed", "予約を受け付けました。", "The hold was placed."),
    ("desk_hold_cancelled", "予約を取り消しました。", "The hold was cancelled."),
    ("desk_shelf_empty", "取置中の予約はありません。", "No holds are waiting on this shelf."),
    ("desk_today", "本日（日本時間）: {0}", "Today (Japan time): {0}"),
    ("desk_due_today", "本日返却予定", "Due today"),
    ("desk_overdue", "延滞", "Overdue"),
    ("desk_none", "ありません。", "None."),
    ("desk_all_branches", "全館", "All branches"),
    ("desk_col_title", "タイトル", "Title"),
    ("desk_col_card", "利用者番号", "Card"),
    ("desk_col_renewals", "延長回数", "Renewals"),
    ("desk_col_hold", "予約番号", "Hold"),
    ("desk_col_state", "状態", "State"),
    ("desk_col_until", "取置期限", "Ready until"),
    ("hold_state_waiting", "順番待ち", "Waiting"),
    ("hold_state_in_transit", "回送中", "In transit"),
    ("hold_state_ready", "取置中", "Ready for pickup"),
    ("hold_state_fulfilled", "貸出済み", "Fulfilled"),
    ("hold_state_cancelled", "取消済み", "Cancelled"),
    ("hold_state_expired", "期限切れ", "Expired"),
    // The patron's pages (マイページ).
    ("my_title", "マイページ", "My account"),
    ("my_login_title", "マイページにログイン", "Log in to your account"),
    (
        "my_login_intro",
        "利用者番号（図書館カードの番号）とパスワードを入力してください。",
        "Enter your card number (on your library card) and your password.",
    ),
    ("my_card", "利用者番号", "Card number"),
    ("my_password", "パスワード", "Password"),
    ("my_login_button", "ログイン", "Log in"),
    (
        "my_login_help",
        "パスワードをお持ちでない方、忘れた方は図書館カウンターでお尋ねください。",
        "No password yet, or forgotten it? Please ask at the library counter.",
    ),
    ("my_login_wrong", "利用者番号またはパスワードが正しくありません。", "The card number or password is wrong."),
    (
        "my_login_locked",
        "ログインの失敗が続いたため、{0} までログインできません。",
        "Too many failed attempts: you can log in again after {0}.",
    ),
    ("my_welcome", "{0} さん（利用者番号 {1}）", "{0} (card {1})"),
    ("my_loans", "借りている資料", "On loan"),
    ("my_no_loans", "借りている資料はありません。", "Nothing on loan."),
    ("my_holds", "予約", "Holds"),
    ("my_no_holds", "予約はありません。", "No holds."),
    ("my_overdue", "延滞", "Overdue"),
    ("my_due_jst", "{0}（日本時間）", "{0} (Japan time)"),
    ("my_col_renew", "延長", "Renew"),
    ("patron_category_adult", "一般", "Adult"),
    ("patron_category_child", "児童", "Child"),
    ("patron_category_student", "学生", "Student"),
    ("patron_category_staff", "職員", "Staff"),
    ("my_renew_refused", "延長できません", "Cannot be renewed"),
    ("my_renew_button", "延長する", "Renew"),
    ("my_renew_label", "「{0}」を延長する", "Renew “{0}”"),
    ("my_col_pickup", "受取館", "Pickup branch"),
    ("my_col_cancel", "取消", "Cancel"),
    ("my_cancel_button", "取り消す", "Cancel"),
    ("my_cancel_label", "「{0}」の予約を取り消す", "Cancel the hold on “{0}”"),
    ("my_logout_button", "ログアウト", "Log out"),
    ("my_position", "{0} 番目", "number {0} in line"),
    ("my_hold_ready", "取置中（{0} まで）", "Ready for pickup (until {0})"),
    ("my_hold_title", "予約する", "Place a hold"),
    (
        "my_hold_intro",
        "「{0}」を予約します。受け取る館を選んでください。",
        "Place a hold on “{0}”: choose where to pick it up.",
    ),
    ("my_hold_button", "予約を確定する", "Confirm the hold"),
    ("my_done_renewed", "延長しました。", "Renewed."),
    ("my_done_cancelled", "予約を取り消しました。", "The hold was cancelled."),
    ("my_done_held", "予約しました。", "The hold was placed."),
    // The patron's settings: password change and two-step verification.
    ("my_settings_title", "パスワードと二段階認証", "Password and two-step verification"),
    ("my_settings_link", "パスワードの変更・二段階認証の設定", "Change your password, set up two-step verification"),
    ("my_password_heading", "パスワードの変更", "Change your password"),
    (
        "my_password_rules",
        "12文字以上で、よく使われるパスワードや利用者番号を含むものは使えません。変更すると、この端末以外のログインはすべて終了します。",
        "At least 12 characters; common passwords and ones containing your card number are refused. Changing it logs out every other device.",
    ),
    ("my_password_current", "現在のパスワード", "Current password"),
    ("my_password_new", "新しいパスワード", "New password"),
    ("my_password_confirm", "新しいパスワード（確認）", "New password again"),
    ("my_password_button", "パスワードを変更する", "Change the password"),
    ("my_password_mismatch", "新しいパスワードが一致しません。", "The two new passwords differ."),
    ("my_password_wrong", "現在のパスワードが正しくありません。", "The current password is wrong."),
    ("my_password_weak", "このパスワードは使えません（{0}）。", "This password cannot be used ({0})."),
    ("my_done_password", "パスワードを変更しました。", "Your password was changed."),
    (
        "my_locked",
        "失敗が続いたため、{0} まで操作できません。",
        "Too many failed attempts: please try again after {0}.",
    ),
    ("my_totp_heading", "二段階認証", "Two-step verification"),
    (
        "my_totp_intro",
        "オンにすると、ログインのときにパスワードに加えて、認証アプリ（Google Authenticator など）に表示される6桁の確認コードを入力します。",
        "When it is on, you log in with your password and the 6-digit code shown by an authenticator app (Google Authenticator and others).",
    ),
    ("my_totp_off", "二段階認証はオフです。", "Two-step verification is off."),
    ("my_totp_on", "二段階認証はオンです（{0} から）。", "Two-step verification is on (since {0})."),
    ("my_totp_codes_left", "未使用の復旧コード: {0} 個", "Recovery codes left: {0}"),
    ("my_totp_begin_button", "二段階認証を設定する", "Set up two-step verification"),
    ("my_totp_continue", "設定の途中です。続きはこちら", "The setup is not finished: continue it"),
    (
        "my_totp_disable_intro",
        "オフにするには、パスワードと確認コード（または復旧コード）を入力してください。",
        "To turn it off, enter your password and a code (or a recovery code).",
    ),
    ("my_totp_disable_button", "二段階認証をオフにする", "Turn off two-step verification"),
    ("my_totp_already_on", "二段階認証はすでにオンです。", "Two-step verification is already on."),
    ("my_done_totp_off", "二段階認証をオフにしました。", "Two-step verification was turned off."),
    (
        "my_done_recovery",
        "復旧コードでログインしました。使った復旧コードはもう使えません。",
        "You logged in with a recovery code; that code cannot be used again.",
    ),
    ("my_totp_setup_title", "二段階認証の設定", "Set up two-step verification"),
    (
        "my_totp_scan",
        "1. 認証アプリでこのQRコードを読み取ってください。読み取れない場合は、下のキーを入力してください。",
        "1. Scan this QR code with your authenticator app. If you cannot, type in the key below.",
    ),
    ("my_totp_qr_caption", "認証アプリ用のQRコード", "QR code for your authenticator app"),
    ("my_totp_key", "キー", "Key"),
    (
        "my_totp_confirm_intro",
        "2. アプリに表示された6桁の確認コードと、現在のパスワードを入力して設定を完了してください。",
        "2. To finish, enter the 6-digit code the app shows and your current password.",
    ),
    ("my_totp_code", "確認コード（6桁）", "Code (6 digits)"),
    ("my_totp_confirm_button", "設定を完了する", "Finish the setup"),
    ("my_totp_cancel", "設定をやめて戻る", "Stop and go back"),
    ("my_recovery_title", "復旧コード", "Recovery codes"),
    (
        "my_recovery_intro",
        "二段階認証をオンにしました。スマートフォンをなくしたときは、確認コードの代わりに次の復旧コードでログインできます。各コードは1回だけ使えます。",
        "Two-step verification is on. If you lose your phone, you can log in with one of these recovery codes instead of a code. Each works once.",
    ),
    (
        "my_recovery_keep",
        "この画面は二度と表示されません。印刷するか書き写して、安全な場所に保管してください。",
        "They will not be shown again: print them or write them down, and keep them somewhere safe.",
    ),
    ("my_code_title", "確認コードの入力", "Enter your code"),
    (
        "my_code_intro",
        "認証アプリに表示されている6桁の確認コードを入力してください。スマートフォンが手元にない場合は、復旧コードを入力できます。",
        "Enter the 6-digit code your authenticator app shows. Without your phone, enter one of your recovery codes.",
    ),
    ("my_code_label", "確認コードまたは復旧コード", "Code or recovery code"),
    ("my_code_button", "確認する", "Verify"),
    ("my_code_wrong", "確認コードが正しくないか、すでに使われています。", "The code is wrong or was already used."),
    (
        "my_code_expired",
        "確認コードの入力時間が過ぎました。もう一度ログインしてください。",
        "The time to enter the code ran out. Please log in again.",
    ),
    ("my_code_restart", "最初からログインし直す", "Start the login again"),
    // Why a new password is refused (the catalogue's rules, `check_password_rules`).
    ("password_rule_short", "12文字以上にしてください", "it must be at least 12 characters long"),
    ("password_rule_long", "256文字以下にしてください", "it must be at most 256 characters long"),
    ("password_rule_control", "制御文字は使えません", "it must not contain control characters"),
    ("password_rule_common", "よく使われるパスワードです", "it is one of the most common passwords"),
    ("password_rule_card", "利用者番号を含めることはできません", "it must not contain your card number"),
    ("password_rule_repeated", "同じ文字の並びの繰り返しは使えません", "it must not be one short piece repeated"),
    ("password_rule_run", "abcdef や 987654 のような連続は使えません", "it must not be a run like abcdef or 987654"),
    ("password_rule_same", "現在のパスワードと同じです", "it must differ from the current password"),
    // Languages (MARC codes).
    // Material types (indexer's names).
    ("material_book", "図書", "Book"),
    ("material_serial", "雑誌・逐次刊行物", "Serial"),
    ("material_score", "楽譜", "Music score"),
    ("material_map", "地図", "Map"),
    ("material_video", "映像資料", "Video"),
    ("material_audiobook", "録音資料（朗読など）", "Spoken-word recording"),
    ("material_music", "音楽録音", "Music recording"),
    ("material_image", "画像資料", "Image"),
    ("material_electronic", "電子資料", "Electronic resource"),
    ("material_kit", "キット", "Kit"),
    ("material_object", "実物資料", "Object"),
    ("material_other", "その他", "Other"),
];

static TABLES: LazyLock<[BTreeMap<&'static str, &'static str>; 2]> = LazyLock::new(|| {
    let all = || MESSAGES.iter().chain(crate::cataloguing::messages::MESSAGES);
    let ja = all().map(|(key, ja, _)| (*key, *ja)).collect();
    let en = all().map(|(key, _, en)| (*key, *en)).collect();
    [ja, en]
});

/// Every message of a language, by key (what templates see as `t`).
pub(crate) fn table(lang: Lang) -> &'static BTreeMap<&'static str, &'static str> {
    match lang {
        Lang::Ja => &TABLES[0],
        Lang::En => &TABLES[1],
    }
}

/// One message, if the key exists.
pub(crate) fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    table(lang).get(key).copied()
}

/// One message; a missing key shows as itself (and fails the catalogue's tests).
pub(crate) fn text(lang: Lang, key: &'static str) -> &'static str {
    lookup(lang, key).unwrap_or(key)
}

/// A message with `{0}`, `{1}` … replaced by `args`.
pub(crate) fn fill(template: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| after[..close].parse::<usize>().ok().map(|n| (n, close))) {
            Some((n, close)) => {
                out.push_str(args.get(n).map_or("", String::as_str));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A count with thousands separators, as both languages write it: 12,345.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The name of a MARC language code, or the code.
pub(crate) fn language_name(lang: Lang, code: &str) -> String {
    match (lang, catalogue::language_name(code)) {
        (Lang::Ja, Some(catalogue::LanguageName { japanese: Some(name), .. })) => name.to_owned(),
        (_, Some(name)) => name.english.to_owned(),
        (_, None) => code.to_owned(),
    }
}

/// The name of a material type, or its code.
pub(crate) fn material_name(lang: Lang, code: &str) -> String {
    lookup(lang, &format!("material_{code}")).map_or_else(|| code.to_owned(), str::to_owned)
}

/// The name of an item status, or its code.
pub(crate) fn status_name(lang: Lang, code: &str) -> String {
    lookup(lang, &format!("status_{code}")).map_or_else(|| code.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once_with_both_languages() {
        let mut seen = std::collections::BTreeSet::new();
        for (key, ja, en) in MESSAGES.iter().chain(crate::cataloguing::messages::MESSAGES) {
            assert!(seen.insert(*key), "{key} twice");
            assert!(!ja.is_empty() && !en.is_empty(), "{key} lacks a language");
            let count = |s: &str| (0..4).filter(|n| s.contains(&format!("{{{n}}}"))).count();
            assert_eq!(count(ja), count(en), "{key}: the languages take different values");
        }
    }

    #[test]
    fn fills_placeholders_in_any_order() {
        let args = ["120".to_owned(), "1".to_owned(), "20".to_owned()];
        assert_eq!(fill(text(Lang::Ja, "results_count"), &args), "120 件中 1–20 件目");
        assert_eq!(fill(text(Lang::En, "results_count"), &args), "1–20 of 120");
        assert_eq!(fill("{x} {0} {", &args), "{x} 120 {");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(language_name(Lang::En, "jpn"), "Japanese");
        assert_eq!(material_name(Lang::Ja, "zzz"), "zzz");
    }
}
