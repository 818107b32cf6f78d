"""The catalogue of checks: what each one means and how to fix it, in Chinese and English.

An audit stores, per check, only facts (outcome, measured, expected, what is missing); the words
come from here, so every stored audit reads the same way and the texts can be improved later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Group = Literal["eligibility", "graduation", "degree"]
Outcome = Literal["passed", "failed", "waived", "not_applicable"]


@dataclass(frozen=True)
class CheckText:
    group: Group
    title_zh: str
    title_en: str
    hint_zh: str
    hint_en: str
    waivable: bool = False


CATALOGUE: dict[str, CheckText] = {
    "audit.student_registered": CheckText(
        "eligibility",
        "学籍信息已登记",
        "Student record present",
        "请先在学籍系统登记该学生",
        "Register the student in the registry first",
    ),
    "audit.status_enrolled": CheckText(
        "eligibility",
        "学籍状态为在籍",
        "Status is enrolled",
        "只有在籍学生可以毕业；休学、退学、取消学籍者须先办理学籍异动",
        "Only enrolled students graduate; record the status change first",
    ),
    "audit.formal_status": CheckText(
        "eligibility",
        "正式学籍（无待查的前置学历复查）",
        "Formal status (no pending prior-education review)",
        "前置学历资格待查：请学习中心在 3 个月内完成前置学历复查（初审/复审）",
        "Prior education is pending: the centre must finish the prior-education review",
    ),
    "audit.identity_not_in_doubt": CheckText(
        "eligibility",
        "身份无存疑",
        "Identity not in doubt",
        "学信网标记身份存疑：请学校核实并提交复核备案，省级同意备案后方可注册",
        "CHSI flags the identity as doubtful: verify it and file the review",
    ),
    "audit.graduation_photo_approved": CheckText(
        "eligibility",
        "已有审核通过的毕业照片",
        "Approved graduation photo",
        "请上传毕业照片并等待审核通过",
        "Upload a graduation photo and have it approved",
    ),
    "audit.chsi_photos": CheckText(
        "eligibility",
        "学信网已有入学照片和毕业照片",
        "CHSI holds the admission and graduation photos",
        "请确认照片已上传学信网（上网中→已上网），学信网比对不通过须重新采集",
        "Make sure both photos reach CHSI; a CHSI rejection needs a new capture",
    ),
    "audit.no_photo_in_doubt": CheckText(
        "eligibility",
        "无照片存疑",
        "No photo in doubt",
        "照片存疑：学习中心提供身份核查表、登记表及入学、毕业照片，由总部更正",
        "A photo is in doubt: the centre sends the identity review form and photos; HQ corrects the record",
    ),
    "audit.secondary_vocational_proof": CheckText(
        "eligibility",
        "中高衔接学生已提交中职毕业证明",
        "Secondary-vocational diploma proof (中高衔接)",
        "请在毕业申请中填写中职毕业证书编号等证明信息",
        "Record the secondary-vocational diploma proof on the application",
    ),
    "audit.transcript_present": CheckText(
        "graduation",
        "已收到成绩单",
        "Transcript received",
        "请教学平台推送该学生的成绩单",
        "Have the LMS push the student's transcript",
    ),
    "audit.credits_total": CheckText(
        "graduation",
        "总学分达到要求",
        "Total credits reached",
        "学分不足：请选修并通过更多课程",
        "Not enough credits: pass more courses",
        waivable=True,
    ),
    "audit.credits_required": CheckText(
        "graduation",
        "必修课学分达到要求",
        "Required-course credits reached",
        "必修课学分不足",
        "Not enough required-course credits",
        waivable=True,
    ),
    "audit.credits_elective": CheckText(
        "graduation",
        "选修课学分达到要求",
        "Elective credits reached",
        "选修课学分不足",
        "Not enough elective credits",
        waivable=True,
    ),
    "audit.credits_practice": CheckText(
        "graduation",
        "实践学分达到要求",
        "Practice credits reached",
        "实践环节学分不足",
        "Not enough practice credits",
        waivable=True,
    ),
    "audit.credits_thesis": CheckText(
        "graduation",
        "论文学分达到要求",
        "Thesis credits reached",
        "毕业论文（设计）学分不足",
        "Not enough thesis credits",
        waivable=True,
    ),
    "audit.required_courses": CheckText(
        "graduation",
        "必修课程全部通过",
        "Every required course passed",
        "以下必修课程未通过或无成绩（missing 列出课程代码），可补考或申请课程替代",
        "These required courses are not passed (see missing); retake them or record a substitution",
        waivable=True,
    ),
    "audit.practice_grades_published": CheckText(
        "graduation",
        "实践环节成绩已发布",
        "Practice grades published",
        "请教学平台发布以下实践课程的成绩",
        "Have the LMS publish the grades of these practice courses",
        waivable=True,
    ),
    "audit.thesis": CheckText(
        "graduation",
        "毕业论文（设计）通过",
        "Thesis passed",
        "毕业论文（设计）无成绩或未达及格分",
        "The thesis has no score or is below the pass mark",
        waivable=True,
    ),
    "audit.degree_level": CheckText(
        "degree",
        "学历层次可授予学士学位",
        "Level leads to a bachelor's degree",
        "专科层次不授予学士学位，请改为申请毕业",
        "A 专科 level grants no degree; apply to graduate only",
    ),
    "audit.degree_required_average": CheckText(
        "degree",
        "专业必修课平均分达到学位要求",
        "Required-course average meets the degree threshold",
        "必修课平均分未达学位要求",
        "The required-course average is below the degree threshold",
    ),
    "audit.degree_thesis_score": CheckText(
        "degree",
        "论文成绩达到学位要求",
        "Thesis score meets the degree threshold",
        "论文成绩未达学位要求",
        "The thesis score is below the degree threshold",
    ),
    "audit.degree_thesis_similarity": CheckText(
        "degree",
        "论文查重率符合学位要求",
        "Thesis similarity within the degree limit",
        "论文查重率超过上限或无查重结果",
        "The thesis similarity is above the limit or missing",
    ),
    "audit.degree_english": CheckText(
        "degree",
        "学位英语通过",
        "Degree English passed",
        "请通过认可的学位英语考试",
        "Pass an accepted degree English exam",
    ),
}

BLOCKING_GROUPS: frozenset[str] = frozenset({"eligibility", "graduation"})


def text_of(code: str) -> CheckText:
    return CATALOGUE[code]
