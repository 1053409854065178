// Texts in Vietnamese (the default) and English, and locale-aware number
// and date formatting through Intl (vi-VN, en-GB).

const dict = {
  vi: {
    title: 'Vùng lõm sóng', menu: 'Bộ lọc và lớp', search: 'Tìm {lv}…', report_btn: 'Báo cáo sóng yếu', report_short: 'Báo cáo', signout_short: 'Thoát',
    filters: 'Bộ lọc', carrier: 'Nhà mạng', any_carrier: 'Tất cả nhà mạng', tech: 'Công nghệ', any_tech: 'Mọi công nghệ',
    tech_none: 'Không có sóng', from: 'Từ ngày', to: 'Đến ngày', layers: 'Lớp bản đồ', l_areas: 'Ấp, khu phố',
    l_holes: 'Vùng lõm sóng', l_reports: 'Báo cáo', l_teams: 'Tổ công nghệ số', metric: 'Tô màu {lv} theo',
    m_dead: 'Tỉ lệ vùng lõm sóng mọi nhà mạng', m_hole: 'Tỉ lệ vùng lõm sóng (ít nhất một nhà mạng)', m_reach: 'Tỉ lệ hộ được tổ hỗ trợ',
    m_action: 'Việc cần làm', downloads: 'Tải danh sách vùng lõm sóng', status: 'Trạng thái', all_carriers: 'Mọi nhà mạng',
    report_title: 'Báo cáo sóng yếu', where: 'Vị trí', tap_hint: 'Chạm vào bản đồ để chọn vị trí, hoặc:',
    use_location: 'Dùng vị trí của tôi', choose: '— chọn —', no_service: 'Hoàn toàn không có sóng',
    signal: 'Cường độ sóng (dBm)', speed: 'Tốc độ (Mbps)', down: 'Tải xuống', up: 'Tải lên', speed_test: 'Đo tốc độ',
    source: 'Người báo cáo là', src_staff: 'Cán bộ xã', src_team: 'Tổ công nghệ số', src_app: 'Người dân',
    reporter: 'Tên hoặc số điện thoại (không bắt buộc)', note: 'Ghi chú', submit: 'Gửi báo cáo',
    queue_title: 'Báo cáo của máy này', online: 'Đang có mạng', offline: 'Mất mạng: báo cáo được lưu và sẽ gửi khi có mạng',
    q_queued: 'chờ gửi', q_sent: 'đã gửi', q_rejected: 'bị từ chối', saved_queued: 'Đã lưu, sẽ gửi khi có mạng.',
    sent_ok: 'Đã gửi. Cảm ơn!', rejected: 'Máy chủ từ chối báo cáo, xem lỗi bên dưới từng ô.', need_location: 'Hãy chọn vị trí trên bản đồ.',
    locating: 'Đang lấy vị trí…', accuracy: 'độ chính xác ±{m} m', geo_fail: 'Không lấy được vị trí: {e}',
    speed_running: 'Đang đo…', speed_done: 'Tải xuống {d} Mbps, tải lên {u} Mbps', speed_fail: 'Không đo được: {e}',
    loading: 'đang tải…', load_fail: 'lỗi tải {l}: {e}',
    reports: 'Báo cáo', weak: 'Sóng yếu', weak_share: 'Tỉ lệ yếu', median: 'Trung vị dBm', hole_share: 'Tỉ lệ lõm sóng',
    team_reach: 'Tổ công nghệ số', teams: 'Số tổ', members: 'Thành viên', reached: 'Hộ được hỗ trợ',
    nearest: 'Tổ gần nhất (km)', action: 'Việc cần làm', rank: 'Xếp hạng ưu tiên', households: 'Số hộ',
    population: 'Dân số', dead_share: 'Tỉ lệ lõm sóng mọi nhà mạng', monthly: 'Báo cáo theo tháng (phần tô đậm: sóng yếu)',
    a_ok: 'Ổn', a_team: 'Tăng tổ công nghệ số', a_carrier: 'Đề nghị nhà mạng phủ sóng', a_both: 'Cả hai',
    hole: 'Vùng lõm sóng', reporters: 'Người báo cáo', first_seen: 'Lần đầu', last_seen: 'Lần cuối',
    area_km2: 'Diện tích (km²)', hh_affected: 'Hộ bị ảnh hưởng', areas_in: 'Thuộc', severity: 'Mức độ',
    hole_outline: 'Số liệu chi tiết của vùng lõm sóng chỉ dành cho nhà mạng và tỉnh.',
    no_data: 'chưa có dữ liệu', members_n: '{n} thành viên', no_results: 'Không tìm thấy', observed: 'Thời điểm',
    lang: 'EN',
    signin: 'Đăng nhập', signout: 'Đăng xuất', signin_report: 'Đăng nhập để báo cáo', signin_title: 'Đăng nhập',
    user_name: 'Tên đăng nhập', password: 'Mật khẩu', cancel: 'Huỷ',
    signin_wrong: 'Sai tên đăng nhập hoặc mật khẩu.', signin_throttled: 'Đăng nhập sai quá nhiều lần; hãy thử lại sau ít phút.',
    signin_fail: 'Không đăng nhập được: {e}', signin_need: 'Hãy nhập tên và mật khẩu.',
    role_admin: 'quản trị', role_reviewer: 'kiểm duyệt', role_staff: 'cán bộ', role_carrier: 'nhà mạng',
    saved_signin: 'Đã lưu trên máy này; hãy đăng nhập để gửi.', queue_signin: '{n} báo cáo đang chờ: đăng nhập để gửi',
    q_signin: 'chờ đăng nhập', reporter_l: 'Người báo cáo', source_l: 'Nguồn', report_id: 'Mã',
    confirm: 'Xác nhận', reject: 'Bác bỏ', review_comment: 'Nhận xét (không bắt buộc)',
    reviewed_confirmed: 'Đã xác nhận.', reviewed_rejected: 'Đã bác bỏ.', review_fail: 'Không lưu được: {e}',
    state: 'Trạng thái', answer_due: 'Hạn trả lời', fix_due: 'Hạn khắc phục', overdue: 'Quá hạn', cause: 'Nguyên nhân',
    funding: 'Nguồn kinh phí', st_open: 'Mới', st_acknowledged: 'Đã tiếp nhận', st_planned: 'Có kế hoạch',
    st_fixed: 'Nhà mạng báo đã khắc phục', st_verified: 'Đã kiểm chứng', st_reopened: 'Mở lại', st_disputed: 'Đang khiếu nại',
    st_dismissed: 'Đã bác bỏ', st_resolved_by_data: 'Hết lõm sóng theo dữ liệu',
    retest: 'Nhà mạng báo đã khắc phục: hãy đo lại sóng ở đây để kiểm chứng.', scorecard: 'Bảng theo dõi nhà mạng',
    period: 'Kỳ', sc_listed: 'Mới', sc_answered: 'Trả lời', sc_on_time: 'Đúng hạn', sc_planned: 'Kế hoạch',
    sc_fixed: 'Khắc phục', sc_verified: 'Kiểm chứng', sc_reopened: 'Mở lại', sc_overdue: 'Quá hạn',
    sc_days_answer: 'Ngày trả lời (trung vị)', sc_days_fix: 'Ngày khắc phục (trung vị)',
    detail_fail: 'Không tải được chi tiết: {e}',
    prob_weak: 'Khả năng sóng yếu (khoảng tỉ lệ yếu 90%)',
    l_unobserved: 'Nơi chưa có dữ liệu', l_tasks: 'Nơi cần đo', observed_share: 'Phần diện tích đã có dữ liệu',
    no_data_yet: 'Chưa có dữ liệu: chưa có báo cáo nào đủ gần để đánh giá {lv1} này.',
    task: 'Nơi cần đo', task_rank: 'Thứ tự', task_why: 'Lý do', task_done: 'Đã đo', task_open: 'Chưa đo',
    w_hole_edge: 'Bên cạnh vùng lõm sóng: đo để biết vùng lõm sóng đến đâu', w_near_threshold: 'Gần ngưỡng: vài báo cáo nữa sẽ quyết định',
    w_unobserved: 'Chưa có báo cáo nào ở đây', w_retest: 'Nhà mạng báo đã khắc phục: đo lại để xác nhận', measure_with: 'Đo bằng SIM', every_sim: 'mọi nhà mạng có SIM',
    activity: 'Hoạt động', reports_7d: 'Báo cáo 7 ngày', reports_30d: 'Báo cáo 30 ngày', tasks_done: 'Nơi đã đo', tasks_open: 'Nơi chưa đo',
    // The areas' level, from the data (geo.Level): the words for many, and for one.
    lv_hamlet: 'ấp, khu phố', lv_commune: 'xã, phường', lv_district: 'huyện', lv_province: 'tỉnh', lv_: 'khu vực',
    lv1_hamlet: 'ấp', lv1_commune: 'xã', lv1_district: 'huyện', lv1_province: 'tỉnh', lv1_: 'khu vực',
    st_areas: '{n} {lv}', st_holes: '{n} vùng lõm sóng', st_reports: '{n} báo cáo', st_teams: '{n} tổ', st_tasks: '{n} nơi cần đo',
    st_unobserved: 'nơi chưa có dữ liệu', st_cut: ' — phóng to để xem hết', st_none: 'không có lớp nào được bật',
    lg_holes: 'Vùng lõm sóng theo nhà mạng', lg_ok: 'Sóng dùng được', lg_weak: 'Sóng yếu', lg_none: 'Không có sóng',
    lg_cluster: 'Cụm báo cáo: vòng chia theo phần sóng yếu (đỏ), không có sóng (đen) và dùng được (xanh); số ở giữa là số báo cáo',
    lg_teams: 'Tổ công nghệ số (ô càng lớn, tổ càng đông)', lg_task_open: 'Nơi cần đo', lg_task_done: 'Đã đo xong',
    lg_unobserved: 'Nơi chưa có dữ liệu (chưa có báo cáo nào đủ gần)',
  },
  en: {
    title: 'Weak-signal areas', menu: 'Filters and layers', search: 'Find a {lv1}…', report_btn: 'Report weak signal', report_short: 'Report', signout_short: 'Sign out',
    filters: 'Filters', carrier: 'Carrier', any_carrier: 'All carriers', tech: 'Technology', any_tech: 'Any technology',
    tech_none: 'No service', from: 'From', to: 'To', layers: 'Layers', l_areas: 'Hamlets', l_holes: 'Coverage holes',
    l_reports: 'Reports', l_teams: 'Digital teams', metric: 'Colour {lv} by', m_dead: 'Dead-zone share',
    m_hole: 'Hole share (any carrier)', m_reach: 'Households reached by teams', m_action: 'Action',
    downloads: 'Download gap lists', status: 'Status', all_carriers: 'All carriers (dead zone)',
    report_title: 'Report weak signal', where: 'Location', tap_hint: 'Tap the map to place the report, or:',
    use_location: 'Use my location', choose: '— choose —', no_service: 'No signal at all', signal: 'Signal (dBm)',
    speed: 'Speed (Mbps)', down: 'Download', up: 'Upload', speed_test: 'Run speed test', source: 'Reported by',
    src_staff: 'Commune staff', src_team: 'Digital team', src_app: 'Resident', reporter: 'Name or phone (optional)',
    note: 'Note', submit: 'Send report', queue_title: 'Reports from this device', online: 'Online',
    offline: 'Offline: reports are saved and sent when the connection returns', q_queued: 'waiting',
    q_sent: 'sent', q_rejected: 'rejected', saved_queued: 'Saved; it will be sent when online.',
    sent_ok: 'Sent. Thank you!', rejected: 'The server rejected the report; see the messages by each field.',
    need_location: 'Choose a location on the map.', locating: 'Locating…', accuracy: 'accuracy ±{m} m',
    geo_fail: 'No location: {e}', speed_running: 'Measuring…', speed_done: 'Download {d} Mbps, upload {u} Mbps',
    speed_fail: 'Speed test failed: {e}', loading: 'loading…',
    load_fail: 'failed to load {l}: {e}', reports: 'Reports', weak: 'Weak', weak_share: 'Weak share',
    median: 'Median dBm', hole_share: 'Hole share', team_reach: 'Digital teams', teams: 'Teams', members: 'Members',
    reached: 'Households reached', nearest: 'Nearest team (km)', action: 'Action', rank: 'Priority rank',
    households: 'Households', population: 'Population', dead_share: 'Dead-zone share',
    monthly: 'Reports per month (dark: weak)', a_ok: 'OK', a_team: 'More digital teams', a_carrier: 'Ask the carrier to cover',
    a_both: 'Both', hole: 'Coverage hole', reporters: 'Reporters', first_seen: 'First seen', last_seen: 'Last seen',
    area_km2: 'Area (km²)', hh_affected: 'Households affected', areas_in: 'In', severity: 'Severity',
    hole_outline: 'The evidence behind this hole is for the carrier and the province only.',
    state: 'State', answer_due: 'Answer due', fix_due: 'Fix due', overdue: 'Overdue', cause: 'Cause',
    funding: 'Funding', st_open: 'Open', st_acknowledged: 'Acknowledged', st_planned: 'Planned',
    st_fixed: 'Fixed (by the carrier)', st_verified: 'Verified', st_reopened: 'Reopened', st_disputed: 'Disputed',
    st_dismissed: 'Dismissed', st_resolved_by_data: 'Resolved by data',
    retest: 'The carrier says this was fixed: please measure the signal here again.', scorecard: 'Carrier scorecard',
    period: 'Period', sc_listed: 'Listed', sc_answered: 'Answered', sc_on_time: 'On time', sc_planned: 'Planned',
    sc_fixed: 'Fixed', sc_verified: 'Verified', sc_reopened: 'Reopened', sc_overdue: 'Overdue',
    sc_days_answer: 'Days to answer (median)', sc_days_fix: 'Days to fix (median)',
    no_data: 'no data yet', members_n: '{n} members', no_results: 'Nothing found', observed: 'Observed',
    lang: 'VI',
    signin: 'Sign in', signout: 'Sign out', signin_report: 'Sign in to report', signin_title: 'Sign in',
    user_name: 'User name', password: 'Password', cancel: 'Cancel',
    signin_wrong: 'The name or password is wrong.', signin_throttled: 'Too many failed sign-ins; try again in a few minutes.',
    signin_fail: 'Could not sign in: {e}', signin_need: 'Enter your name and password.',
    role_admin: 'admin', role_reviewer: 'reviewer', role_staff: 'staff', role_carrier: 'carrier',
    saved_signin: 'Saved on this device; sign in to send it.', queue_signin: '{n} reports waiting: sign in to send them',
    q_signin: 'waiting for sign-in', reporter_l: 'Reporter', source_l: 'Source', report_id: 'ID',
    confirm: 'Confirm', reject: 'Reject', review_comment: 'Comment (optional)',
    reviewed_confirmed: 'Confirmed.', reviewed_rejected: 'Rejected.', review_fail: 'Not saved: {e}',
    detail_fail: 'Could not load the details: {e}',
    prob_weak: 'Probability weak (90% interval of the weak share)',
    l_unobserved: 'No data yet', l_tasks: 'Places to measure', observed_share: 'Share of land with data',
    no_data_yet: 'No data yet: no report is near enough to judge this {lv1}.',
    task: 'Place to measure', task_rank: 'Rank', task_why: 'Why', task_done: 'Measured', task_open: 'Not yet measured',
    w_hole_edge: 'Beside a coverage hole: measure to see where it ends', w_near_threshold: 'Near the threshold: a few reports decide it',
    w_unobserved: 'No report here yet', w_retest: 'The carrier says it fixed this: measure again to check', measure_with: 'Measure with SIM', every_sim: 'every carrier you have a SIM of',
    activity: 'Activity', reports_7d: 'Reports, 7 days', reports_30d: 'Reports, 30 days', tasks_done: 'Places measured', tasks_open: 'Places to measure',
    lv_hamlet: 'hamlets', lv_commune: 'communes', lv_district: 'districts', lv_province: 'provinces', lv_: 'areas',
    lv1_hamlet: 'hamlet', lv1_commune: 'commune', lv1_district: 'district', lv1_province: 'province', lv1_: 'area',
    st_areas: '{n} {lv}', st_holes: '{n} coverage holes', st_reports: '{n} reports', st_teams: '{n} teams', st_tasks: '{n} places to measure',
    st_unobserved: 'land without data', st_cut: ' — zoom in to see them all', st_none: 'no layer is on',
    lg_holes: 'Coverage holes by carrier', lg_ok: 'Usable signal', lg_weak: 'Weak signal', lg_none: 'No service',
    lg_cluster: 'Report clusters: the ring is split into the weak (red), no-service (black) and usable (green) shares; the number is how many reports',
    lg_teams: 'Digital teams (the bigger the square, the more members)', lg_task_open: 'Place to measure', lg_task_done: 'Measured',
    lg_unobserved: 'Land without data (no report near enough)',
  },
};

let lang = (() => {
  try { return localStorage.getItem('gapmap.lang') === 'en' ? 'en' : 'vi'; } catch { return 'vi'; }
})();
const listeners = [];

export function getLang() { return lang; }
function locale() { return lang === 'en' ? 'en-GB' : 'vi-VN'; }

// t returns the text for key with {name} placeholders filled from args.
export function t(key, args = {}) {
  const s = dict[lang][key] ?? dict.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in args ? args[k] : ''));
}

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'vi';
  try { localStorage.setItem('gapmap.lang', lang); } catch { /* private mode */ }
  apply();
  for (const f of listeners) f(lang);
}

export function onLangChange(f) { listeners.push(f); }

// apply writes the texts into elements marked data-i18n (text),
// data-i18n-ph (placeholder) and data-i18n-title (title).
export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

export function fmtNum(v, digits = 0) {
  if (v == null || Number.isNaN(v)) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(v);
}

// fmtCount is a count in few characters: 950, 1,2 N / 1.2K, 60 N / 60K.
export function fmtCount(v) {
  if (v < 1000) return fmtNum(v);
  const d = v < 10000 ? 1 : 0;
  return new Intl.NumberFormat(locale(), { notation: 'compact', minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
}

export function fmtPct(v) {
  if (v == null || Number.isNaN(v)) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(v);
}

export function fmtDate(iso, withTime = false) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const o = withTime ? { dateStyle: 'short', timeStyle: 'short' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(locale(), { ...o, timeZone: 'Asia/Ho_Chi_Minh' }).format(d);
}

export function fmtMonth(ym) {
  const d = new Date(ym + '-01T00:00:00Z');
  return new Intl.DateTimeFormat(locale(), { month: 'short', timeZone: 'UTC' }).format(d);
}

// fold makes a name comparable without diacritics or case: NFD, strip the
// combining marks, đ→d ("Ấp Mẫu 3" → "ap mau 3").
export function fold(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();
}
