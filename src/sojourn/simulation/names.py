"""Invented given and family names per market, shared by the demo's hand-made people and the
simulated cohort."""

from __future__ import annotations

NAMES = {
    "DE": (["Anna", "Jonas", "Lea", "Felix", "Mara", "Paul", "Sophie", "Lukas", "Clara", "Tobias"],
           ["Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann", "Schäfer", "Koch", "Richter", "Wolf"]),
    "US": (["Emily", "James", "Olivia", "Daniel", "Ava", "Michael", "Grace", "David", "Chloe", "Ryan"],
           ["Johnson", "Garcia", "Miller", "Davis", "Martinez", "Lee", "Walker", "Young", "Allen", "King"]),
    "GB": (["Olivia", "George", "Amelia", "Harry", "Isla", "Jack", "Freya", "Oscar", "Poppy", "Alfie"],
           ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Hughes"]),
    "JP": (["陽翔", "結衣", "蓮", "葵", "湊", "陽菜", "大翔", "凛", "悠真", "さくら"],
           ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]),
    "CA": (["Liam", "Emma", "Noah", "Chloé", "William", "Léa", "Nathan", "Zoé", "Thomas", "Alice"],
           ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagné"]),
}
