"""Write `rows` lines of toy data to data.csv."""

rows = 5

with open("data.csv", "w") as f:
    for i in range(rows):
        f.write(f"{i},{i * 2}\n")
print(f"prepared {rows} rows")
