"""Messages of the city dashboard (administrators)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "city.title": ("城市看板", "City dashboard"),
    "city.intro": (
        "错时共享停车工作一览：年度目标完成情况、联网状态、共享泊位利用率和停车场登记。",
        "The off-peak sharing programme at a glance: the year's targets, networking, the use "
        "of shared berths and the registry.",
    ),
    # targets
    "city.targets.title": ("{year}年度目标完成情况", "Targets for {year}"),
    "city.targets.none": ("尚未设定年度目标。", "No targets have been set yet."),
    "city.targets.group": ("类别", "Group"),
    "city.targets.lots": ("停车场（家）", "Car parks"),
    "city.targets.berths": ("共享泊位（个）", "Shared berths"),
    "city.targets.achieved": ("完成", "achieved"),
    "city.targets.target": ("目标", "target"),
    "city.targets.completion": ("完成率", "Completion"),
    "city.targets.total": ("合计", "Total"),
    "city.targets.source": (
        "口径：当年开放共享且目前在线的停车场；泊位为其申报的共享泊位数。完成率 = 共享泊位 ÷ 目标"
        "泊位。",
        "Counted: car parks whose sharing opened that year and that are online now, with their "
        "declared shared berths. Completion = shared berths ÷ the berth target.",
    ),
    "city.group.institutional": ("机关企事业单位停车场", "Government and institutional car parks"),
    "city.group.commercial": (
        "商场、酒店、写字楼等经营性停车场",
        "Commercial car parks (malls, hotels, office buildings)",
    ),
    "city.group.residential": ("小区停车场", "Residential car parks"),
    "city.statement.institutional": (
        "已完成{lots}家机关企事业单位停车场共计{berths}个泊位的改造和错时开放共享",
        "{lots} government and institutional car parks with {berths} berths converted and "
        "opened for off-peak sharing",
    ),
    "city.statement.commercial": (
        "辖区{lots}家商场、酒店、写字楼等经营性停车场共计{berths}个泊位实现信息联网、开放共享",
        "{lots} commercial car parks (malls, hotels, office buildings) with {berths} berths "
        "networked and opened for sharing",
    ),
    "city.statement.residential": (
        "{lots}个小区停车场共计{berths}个泊位开放共享",
        "{lots} residential car parks with {berths} berths opened for sharing",
    ),
    "city.statement.rate": ("，完成率{percent}", ", a completion rate of {percent}"),
    "city.statement.over": ("（超额完成）", " (target exceeded)"),
    # networking
    "city.network.title": ("联网与在线", "Networking and live data"),
    "city.network.lots": ("登记停车场", "Car parks registered"),
    "city.network.networked": ("已联网", "Networked"),
    "city.network.live": ("在线", "Live"),
    "city.network.stale": ("数据延迟", "Stale"),
    "city.network.offline": ("离线", "Offline"),
    "city.network.not_networked": ("未联网", "Not networked"),
    "city.network.shared_free": ("当前空闲共享泊位", "Shared berths free now"),
    "city.network.as_of": ("截至 {time}", "As of {time}"),
    "city.network.rule": (
        "在线：{stale} 分钟内有数据；数据延迟：{stale}–{offline} 分钟；离线：超过 {offline} 分钟"
        "；未联网：从未收到数据。",
        "Live: data within {stale} minutes; stale: {stale}–{offline} minutes; offline: longer; "
        "not networked: no data ever received.",
    ),
    "city.map.title": ("停车场分布与联网状态", "Car parks by live state"),
    "city.map.label": (
        "停车场地图：按联网状态着色",
        "Map of the car parks, coloured by live state",
    ),
    "city.map.free": ("空闲共享泊位 {free}", "{free} shared berths free"),
    # utilisation
    "city.use.title": ("共享泊位利用率", "Use of shared berths"),
    "city.use.from": ("起始日期", "From"),
    "city.use.to": ("截止日期", "To"),
    "city.use.show": ("查看", "Show"),
    "city.use.definition": (
        "利用率 = 被占用的共享泊位小时数 ÷ 提供的共享泊位小时数。共享时段内进场（或有预约）的车辆"
        "计为使用共享泊位，且不超过当时提供的共享泊位数；只统计有道闸数据的停车场。",
        "Utilisation = occupied shared-berth hours ÷ shared-berth hours offered. A car counts "
        "when it entered during sharing hours or came with a reservation, never more than the "
        "berths shared at the time; only car parks that sent gate data are measured.",
    ),
    "city.use.range": ("{start} 至 {end}", "{start} to {end}"),
    "city.use.measured": (
        "{measured} 个停车场有道闸数据；{unmeasured} 个无数据，未计入。",
        "Car parks with gate data: {measured}; without, left out: {unmeasured}.",
    ),
    "city.use.total": ("总体利用率", "Overall utilisation"),
    "city.use.hours": (
        "提供 {offered} 泊位·小时，占用 {occupied} 泊位·小时",
        "{offered} berth-hours offered, {occupied} occupied",
    ),
    "city.use.by_hour": ("按时段（北京时间）", "By hour of the day (Beijing time)"),
    "city.use.by_area": ("按街道", "By area (街道)"),
    "city.use.by_group": ("按类别", "By group"),
    "city.use.hour": ("时段", "Hour"),
    "city.use.offered": ("提供（泊位·小时）", "Offered (berth-hours)"),
    "city.use.occupied": ("占用（泊位·小时）", "Occupied (berth-hours)"),
    "city.use.percent": ("利用率", "Utilisation"),
    "city.use.table": ("数据表", "Data table"),
    "city.use.none": ("该时段没有可统计的道闸数据。", "No gate data to measure over this range."),
    "city.use.api": ("JSON 数据", "As JSON"),
    "city.use.chart_hours": ("各时段共享泊位利用率柱状图", "Column chart: utilisation by hour"),
    "city.use.chart_areas": ("各街道共享泊位利用率条形图", "Bar chart: utilisation by area"),
    "city.use.chart_groups": ("各类别共享泊位利用率条形图", "Bar chart: utilisation by group"),
    "city.use.lots": ("{lots} 个停车场", "car parks: {lots}"),
    # onboarding
    "city.import.title": ("表格导入停车场", "Onboarding from a spreadsheet"),
    "city.import.intro": (
        "上传 .xlsx 工作簿或 UTF-8 编码的 CSV（列与导出文件相同）。先检查每一行，确认后才写入；有"
        "任何问题则一行也不导入。",
        "Upload an .xlsx workbook or a UTF-8 CSV with the export's columns. Every row is "
        "checked first and nothing is written until you confirm; with any problem no row is "
        "imported.",
    ),
    "city.import.file": ("电子表格文件", "Spreadsheet file"),
    "city.import.file_hint": (
        "最大 {limit}；可先下载导出文件作为模板",
        "At most {limit}; the export below makes a template",
    ),
    "city.import.coords": ("坐标系（未在表中注明时）", "Coordinates (where a row does not say)"),
    "city.import.wgs84": ("WGS-84（GPS）", "WGS-84 (GPS)"),
    "city.import.gcj02": ("GCJ-02（高德、腾讯地图）", "GCJ-02 (Amap, Tencent maps)"),
    "city.import.check": ("检查（不写入）", "Check (writes nothing)"),
    "city.import.report": ("检查结果", "Check report"),
    "city.import.rows": ("数据行", "Rows"),
    "city.import.rows_ok": ("无问题的行", "Rows without problems"),
    "city.import.rows_bad": ("有问题的行", "Rows with problems"),
    "city.import.header_bad": (
        "表头有问题，数据行未检查。",
        "The header row has problems; the rows were not checked.",
    ),
    "city.import.problems": ("问题（{count}）", "Problems ({count})"),
    "city.import.problems_cut": ("仅列出前 {shown} 个。", "Only the first {shown} are listed."),
    "city.import.row": ("行", "Row"),
    "city.import.column": ("列", "Column"),
    "city.import.problem": ("问题", "Problem"),
    "city.import.ignored": (
        "未识别、将忽略的列：{columns}",
        "Columns not recognised, ignored: {columns}",
    ),
    "city.import.ready": (
        "全部 {rows} 行检查通过：新增 {created} 个停车场，更新 {updated} 个。确认后写入。",
        "All {rows} rows passed: {created} new car parks, {updated} updated. Confirm to write "
        "them.",
    ),
    "city.import.confirm": ("确认导入", "Import now"),
    "city.import.cancel": ("取消", "Cancel"),
    "city.import.nothing": ("未写入任何数据。", "Nothing was written."),
    "city.import.done": (
        "已导入 {rows} 行：新增 {created} 个停车场，更新 {updated} 个，新建运营单位 {operators} "
        "个。",
        "Imported {rows} rows: {created} new car parks, {updated} updated, {operators} new "
        "operators.",
    ),
    "city.import.again": ("再上传一个文件", "Upload another file"),
    "city.import.back": ("返回城市看板", "Back to the dashboard"),
    "city.refusal.not_a_spreadsheet": (
        "这不是可以读取的电子表格：请上传 .xlsx 工作簿或 UTF-8 编码的 CSV 文件（不支持旧版 .xls "
        "和加密工作簿）。",
        "This is not a spreadsheet we can read: upload an .xlsx workbook or a UTF-8 CSV file "
        "(old .xls files and protected workbooks are not read).",
    ),
    "city.refusal.bad_encoding": (
        "文件不是 UTF-8 编码：Excel 的“CSV（逗号分隔）”保存为 GBK 编码，中文会乱码。请另存为“CSV "
        "UTF-8（逗号分隔）”或 .xlsx 后重新上传。",
        "The file is not UTF-8: Excel's “CSV (Comma delimited)” saves in GBK and the Chinese "
        "would be garbled. Save it as “CSV UTF-8 (Comma delimited)” or as .xlsx and upload it "
        "again.",
    ),
    "city.refusal.upload_too_large": (
        "文件太大：上限为 {limit}。",
        "The file is too large: the limit is {limit}.",
    ),
    "city.refusal.spreadsheet_too_large": (
        "表格太大（行数或解压后的大小超过上限），请拆分后分批上传。",
        "The spreadsheet is too large (too many rows, or too big unpacked): split it.",
    ),
    "city.refusal.invalid_input": ("请选择要上传的文件。", "Choose a file to upload."),
    "city.refusal.import_invalid": (
        "发现 {count} 个问题，未导入任何数据。请修改后重新上传。",
        "{count} problem(s) found: nothing was imported. Correct them and upload again.",
    ),
    "city.refusal.upload_expired": (
        "检查过的文件已过期或已导入，请重新上传。",
        "The checked file has expired or was already imported: upload it again.",
    ),
    "city.refusal.other": ("无法处理该文件。", "The file could not be processed."),
    "city.refusal.code": ("代码", "code"),
    # exports
    "city.export.title": ("导出与开放数据", "Exports and open data"),
    "city.export.xlsx": (
        "停车场登记表（Excel .xlsx，可改后导入）",
        "The registry (Excel .xlsx, imports back)",
    ),
    "city.export.csv": ("停车场登记表（CSV，UTF-8）", "The registry (CSV, UTF-8)"),
    "city.export.parkapi": ("ParkAPI 实时数据（JSON）", "ParkAPI live feed (JSON)"),
    "city.export.datex2": ("DATEX II 实时数据（XML）", "DATEX II live feed (XML)"),
    "city.export.privacy": (
        "导出文件不含车牌等个人信息。",
        "Exports never contain plates or other personal data.",
    ),
    # one car park
    "city.lot.back": ("返回城市看板", "Back to the dashboard"),
    "city.lot.code": ("编号", "Code"),
    "city.lot.operator": ("运营单位", "Operator"),
    "city.lot.group": ("类别", "Group"),
    "city.lot.area": ("街道", "Area"),
    "city.lot.address": ("地址", "Address"),
    "city.lot.berths": ("泊位", "Berths"),
    "city.lot.shared": ("共享泊位（申报）", "Shared berths (declared)"),
    "city.lot.opened": ("开放日期", "Sharing opened"),
    "city.lot.status": ("登记状态", "Registry status"),
    "city.lot.live": ("联网状态", "Live state"),
    "city.lot.last_data": ("最近数据", "Last data"),
    "city.lot.free": ("空闲泊位", "Free berths"),
    "city.lot.shared_free": ("空闲共享泊位", "Shared berths free"),
    "city.lot.anomaly": ("数据异常", "Data problem"),
    "city.lot.use": ("昨日共享泊位利用率（{day}）", "Use of shared berths yesterday ({day})"),
    "city.status.online": ("在线", "online"),
    "city.status.onboarding": ("接入中", "onboarding"),
    "city.status.suspended": ("暂停", "suspended"),
    "city.none": ("—", "—"),
}
