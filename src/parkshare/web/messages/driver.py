"""Messages of the driver pages: finding and reserving a shared berth, my reservations, passes
and plates, and the refusals those pages show (``driver.error.<code>[.<field>]``)."""

MESSAGES: dict[str, tuple[str, str]] = {
    # finding
    "driver.find.title": ("找共享车位", "Find a shared berth"),
    "driver.find.where": ("在哪里", "Where"),
    "driver.find.change": ("修改搜索条件", "Change the search"),
    "driver.find.intro": (
        "选一个地标、在地图上点一下或输入坐标，再选时间：列出整段时间都有空闲共享车位的停车场。",
        "Pick a landmark, click the map or type coordinates, then a time: you get the car parks "
        "with a free shared berth for the whole of it.",
    ),
    "driver.find.landmark": ("地标", "Landmark"),
    "driver.find.no_landmark": (
        "— 在地图上点选或输入坐标 —",
        "— click the map or type coordinates —",
    ),
    "driver.find.or_coordinates": (
        "或在地图上点一下，或输入纬度、经度。",
        "Or click the map, or type latitude and longitude.",
    ),
    "driver.find.lat": ("纬度", "Latitude"),
    "driver.find.lon": ("经度", "Longitude"),
    "driver.find.datum": ("坐标系", "Datum"),
    "driver.find.chinese_maps": ("高德/腾讯地图", "Chinese maps"),
    "driver.find.when": ("什么时候", "When"),
    "driver.window.now": ("现在（2 小时）", "Now (2 hours)"),
    "driver.window.tonight": ("今晚", "Tonight"),
    "driver.window.weekend": ("本周末", "This weekend"),
    "driver.window.custom": ("自定义", "Custom"),
    "driver.find.from": ("到达", "Arrive"),
    "driver.find.to": ("离开", "Leave"),
    "driver.find.local_time": ("北京时间", "China Standard Time (Asia/Shanghai)"),
    "driver.find.radius": ("范围", "Distance"),
    "driver.find.within": ("{metres} 米以内", "within {metres} m"),
    "driver.find.submit": ("搜索", "Search"),
    "driver.find.map_label": (
        "地图：点击选择位置，圆点为有空位的停车场",
        "Map: click to choose a place; dots are car parks with free berths",
    ),
    "driver.find.results": ("{count} 个停车场有空位", "{count} car parks with free berths"),
    "driver.find.near": ("{place}附近", "Near {place}"),
    "driver.find.near_point": ("{lat}, {lon}（{datum}）附近", "Near {lat}, {lon} ({datum})"),
    "driver.find.straight_line": (
        "距离为直线距离；步行时间按实际路程约为直线的 {detour} 倍、步速 {speed} 公里/小时估算。",
        "Distances are straight lines; walking minutes assume streets {detour}× longer than "
        "the straight line, at {speed} km/h.",
    ),
    "driver.find.none": (
        "这个时段附近没有整段都有空位的停车场。试试扩大范围或换个时间。",
        "No car park nearby has a free berth for the whole of this time. Try a larger distance "
        "or another time.",
    ),
    "driver.result.free": ("空闲共享车位", "Free shared berths"),
    "driver.result.price": ("预计费用", "Estimated price"),
    "driver.result.walk": ("步行", "Walk"),
    "driver.result.walk_value": (
        "{metres} 米 · 约 {minutes} 分钟",
        "{metres} m · about {minutes} min",
    ),
    "driver.result.leave_by": ("最晚离场", "Must leave by"),
    "driver.result.leave_by_unknown": ("超出可预约范围", "beyond the booking horizon"),
    "driver.result.reserve": ("预约", "Reserve"),
    # confirming
    "driver.confirm.title": ("确认预约", "Confirm the reservation"),
    "driver.confirm.window": ("时段", "When"),
    "driver.confirm.price_note": (
        "按收费标准估算，离场时按实际停放时间结算。",
        "Estimated from the tariff; you pay for the time you actually stay.",
    ),
    "driver.confirm.plate": ("车牌", "Plate"),
    "driver.confirm.no_plates": (
        "请先登记车牌，再预约。",
        "Register a plate first, then reserve.",
    ),
    "driver.confirm.submit": ("确认预约（{price}）", "Confirm ({price})"),
    "driver.confirm.back": ("返回搜索结果", "Back to the results"),
    "driver.leave.title": ("请在 {time} 前离场", "You must leave by {time}"),
    "driver.leave.rules": (
        "超过 {grace} 分钟仍未离场即为超时：每小时加收 {surcharge}，并记违约一次；"
        "{violations} 次违约将被禁止预约 {days} 天。",
        "Staying more than {grace} minutes longer is an overstay: {surcharge} an hour extra and "
        "a violation; {violations} violations bar the plate from booking for {days} days.",
    ),
    "driver.code": ("代码", "code"),
    # my pages
    "driver.me.title": ("我的预约", "My bookings"),
    "driver.me.find": ("找车位", "Find parking"),
    "driver.me.reservations": ("预约", "Reservations"),
    "driver.me.no_reservations": ("还没有预约。", "No reservations yet."),
    "driver.me.fee": ("停车费", "Fee"),
    "driver.me.cancel_fee": ("取消费", "Cancellation fee"),
    "driver.me.estimate": ("预计费用", "Estimated price"),
    "driver.me.ref": ("预约号", "Reference"),
    "driver.me.passes": ("包月", "Monthly passes"),
    "driver.me.no_passes": ("还没有包月申请。", "No pass applications yet."),
    "driver.me.plates": ("我的车牌", "My plates"),
    "driver.status.booked": ("已预约", "booked"),
    "driver.status.arrived": ("已入场", "arrived"),
    "driver.status.completed": ("已完成", "completed"),
    "driver.status.cancelled": ("已取消", "cancelled"),
    "driver.status.no_show": ("未到场", "no-show"),
    "driver.status.overstayed": ("超时", "overstayed"),
    "driver.cancel.submit": ("取消预约", "Cancel the reservation"),
    "driver.cancel.free": ("现在取消免费。", "Cancelling now is free."),
    "driver.cancel.late_fee": (
        "距开始不足规定时间，现在取消将收取 {fee}。",
        "It is close to the start: cancelling now costs {fee}.",
    ),
    "driver.cancel.closed": (
        "距开始时间太近，已不能取消。",
        "It is too close to the start to cancel.",
    ),
    "driver.cancel.policy": (
        "开始前 {minutes} 分钟以上取消免费。",
        "Cancelling is free until {minutes} minutes before the start.",
    ),
    "driver.reservation.title": ("预约详情", "Reservation"),
    "driver.reservation.booked": ("预约成功。", "Booked."),
    "driver.reservation.all": ("我的全部预约", "All my bookings"),
    "driver.plates.none": ("还没有登记车牌。", "No plates registered."),
    "driver.plates.new": ("新车牌", "New plate"),
    "driver.plates.add": ("添加车牌", "Add the plate"),
    "driver.plates.remove": ("删除", "Remove"),
    # passes
    "driver.pass.title": ("申请包月", "Apply for a monthly pass"),
    "driver.pass.intro": (
        "包月车位在整个月的每个夜间或周末共享时段为您保留一个车位。名额不足时，平台按"
        "“服务最多的人、步行总距离最短”统一分配。",
        "A pass holds one berth for you in every night or weekend sharing window of a month. "
        "When there are more applicants than passes, the platform allocates them to serve the "
        "most drivers with the least total walking.",
    ),
    "driver.pass.apply": ("申请包月", "Apply for a monthly pass"),
    "driver.pass.kind": ("类型", "Kind"),
    "driver.pass.kind.night": ("夜间", "Nights"),
    "driver.pass.kind.weekend": ("周末及节假日", "Weekends and holidays"),
    "driver.pass.kinds_note": (
        "夜间：工作日晚间的共享时段；周末：包含休息日或节假日的共享时段。",
        "Nights: the sharing windows of working-day evenings; weekends: the windows that hold "
        "a rest day or holiday.",
    ),
    "driver.pass.month": ("月份", "Month"),
    "driver.pass.home": ("住处（在哪里附近停车）", "Home (where you want to park near)"),
    "driver.pass.max_walk": ("最远步行", "Longest walk"),
    "driver.pass.submit": ("提交申请", "Apply"),
    "driver.pass.applied": ("已提交申请 {ref}。", "Application {ref} received."),
    "driver.pass.status": ("状态", "Status"),
    "driver.pass.status.pending": ("待分配", "pending"),
    "driver.pass.status.allocated": ("已分配", "allocated"),
    "driver.pass.status.unserved": ("未分到", "not served"),
    "driver.pass.lot": ("停车场", "Car park"),
    "driver.pass.price": ("月费", "Price"),
    # refusals, by code (and field)
    "driver.error.invalid_input": ("输入有误。", "Something in the form is not right."),
    "driver.error.invalid_input.place": (
        "请选择一个地标，或在地图上点选、输入坐标。",
        "Choose a landmark, click the map or type coordinates.",
    ),
    "driver.error.invalid_input.lat": (
        "纬度应为 -90 到 90 之间的数字，如 35.9440。",
        "Latitude is a number between -90 and 90, such as 35.9440.",
    ),
    "driver.error.invalid_input.lon": (
        "经度应为 -180 到 180 之间的数字，如 120.1925。",
        "Longitude is a number between -180 and 180, such as 120.1925.",
    ),
    "driver.error.invalid_input.coords": (
        "坐标系只能是 WGS-84 或 GCJ-02。",
        "Coordinates are WGS-84 or GCJ-02.",
    ),
    "driver.error.invalid_input.form": (
        "表单已过期，请重新打开停车场再预约。",
        "The form expired; open the car park again.",
    ),
    "driver.error.invalid_input.kind": ("请选择包月类型。", "Choose the kind of pass."),
    "driver.error.invalid_input.month": ("请选择月份。", "Choose the month."),
    "driver.error.invalid_input.max_walk": ("请选择最远步行距离。", "Choose the longest walk."),
    "driver.error.invalid_input.plate": (
        "登记的车牌已达上限，请先删除一个。",
        "You have registered as many plates as allowed; remove one first.",
    ),
    "driver.error.invalid_interval": (
        "离开时间必须晚于到达时间，且一次最多 10 天。",
        "Leaving must come after arriving, and a stay lasts at most 10 days.",
    ),
    "driver.error.invalid_timestamp": (
        "请填写到达和离开的日期时间。",
        "Fill in when you arrive and when you leave.",
    ),
    "driver.error.starts_in_past": ("开始时间已经过去。", "That time has already begun."),
    "driver.error.too_far_ahead": (
        "只能预约 {horizon_days} 天以内的车位。",
        "Reservations open {horizon_days} days ahead at most.",
    ),
    "driver.error.calendar_not_covered": (
        "节假日安排尚未公布，暂时不能预约这一天。",
        "The official holiday calendar does not cover that date yet.",
    ),
    "driver.error.no_capacity": (
        "这个停车场在该时段已没有空闲共享车位。",
        "This car park has no free shared berth for the whole of that time.",
    ),
    "driver.error.barred": (
        "该车牌因违约被暂停预约，至 {until}。",
        "This plate is barred from booking after violations, until {until}.",
    ),
    "driver.error.plate_already_booked": (
        "该车牌在这个时段已经有预约了。",
        "This plate already has a reservation at that time.",
    ),
    "driver.error.booking_limit_reached": (
        "本月取消或未到场次数已达上限，下月才能再预约。",
        "This month's cancellations or no-shows reach the limit; booking reopens next month.",
    ),
    "driver.error.idempotency_key_reused": (
        "这个确认页面已用于另一次预约，请重新打开停车场。",
        "This confirmation was used for another booking; open the car park again.",
    ),
    "driver.error.not_your_plate": (
        "只能用已登记在您账户下的车牌。",
        "Use a plate registered to your account.",
    ),
    "driver.error.lot_not_found": ("没有这个停车场。", "There is no such car park."),
    "driver.error.not_found": ("没有找到。", "Not found."),
    "driver.error.outside_sharing_window": (
        "该时段不在这个停车场的共享时间内。",
        "This car park does not share berths at that time.",
    ),
    "driver.error.spans_windows": (
        "该时段超出了一个共享时段（超过最晚离场时间）。",
        "That time runs past the end of a sharing window (its must-leave-by).",
    ),
    "driver.error.suspended": (
        "运营方在该时段暂停了共享。",
        "The operator suspended sharing during that time.",
    ),
    "driver.error.entry_in_quiet_hours": (
        "22:00–06:00 为静默时段，不能入场。",
        "No entry during quiet hours (22:00–06:00).",
    ),
    "driver.error.exit_in_quiet_hours": (
        "22:00–06:00 为静默时段，不能离场。",
        "No exit during quiet hours (22:00–06:00).",
    ),
    "driver.error.lot_not_online": ("该停车场暂未开放共享。", "This car park is not sharing now."),
    "driver.error.invalid_plate": ("车牌号不正确。", "This is not a valid plate number."),
    "driver.error.invalid_plate.length": (
        "车牌号位数不对：普通车牌 7 位（如 鲁B12345），新能源车牌 8 位（如 鲁BD12345），"
        "您输入了 {length} 位。",
        "A plate has 7 characters (ordinary, e.g. 鲁B12345) or 8 (new-energy, e.g. 鲁BD12345); "
        "this one has {length}.",
    ),
    "driver.error.invalid_plate.position": (
        "车牌号第 {position} 位“{value}”不正确。",
        "Character {position} ('{value}') of the plate is not right.",
    ),
    "driver.error.cancellation_refused": (
        "这个预约已不能取消。",
        "This reservation can no longer be cancelled.",
    ),
    "driver.error.conflict": (
        "该车牌已申请过这个月的同类包月。",
        "This plate already applied for that pass and month.",
    ),
    "driver.error.csrf_failed": ("页面已过期，请刷新后重试。", "The page expired; reload it."),
}
