"""Registry use cases, one module per topic. Each takes the session of the edge's unit of work,
loads through the repositories, applies the domain rules, adds outbox events and flushes: never
commits (the edge does).

- `org`: the organisation tree;  `students`: the record, read, search, create/update;
- `status`: 学籍异动 and the record's history;  `reviews`: 前置学历复查;  `identity`: 身份存疑;
- `collection`: 图像采集码;  `imports`: roster import (名单导入);
- `record`: what the use cases on one record share;  `pii`: ID numbers at rest;
  `validation`: a StudentIn to the record's normalised fields.
"""
