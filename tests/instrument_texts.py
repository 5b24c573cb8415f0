"""Instrument YAML texts shared by tests."""

MINIMAL = """
name: mini
version: "1"
languages: [zh, en]
title: {zh: 小问卷, en: Mini}
scales:
  agree5:
    type: likert
    min: 1
    max: 5
    labels:
      zh: {1: 非常不同意, 2: 不同意, 3: 一般, 4: 同意, 5: 非常同意}
      en: {1: Strongly disagree, 2: Disagree, 3: Neutral, 4: Agree, 5: Strongly agree}
    missing: [99]
constructs:
  a:
    label: {zh: 甲, en: A}
    scale: agree5
    items:
      - {id: A1, text: {zh: 题一, en: Item one}}
      - {id: A2, text: {zh: 题二, en: Item two}}
      - {id: A3, text: {zh: 题三, en: Item three}, reverse: true}
demographics:
  - id: gender
    type: select_one
    text: {zh: 性别, en: Gender}
    choices:
      zh: {1: 男, 2: 女}
      en: {1: Male, 2: Female}
"""
