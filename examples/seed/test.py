"""Evaluate model.txt on data.csv."""

model = open("model.txt").read().strip()
w = float(model.split()[0].split("=")[1])
rows = [tuple(map(float, line.split(","))) for line in open("data.csv").read().splitlines()]
close = sum(1 for x, y in rows if abs(w * x - y) <= 0.5 + 0.1 * abs(y))
print(f"tested model [{model}] on {len(rows)} rows")
print(f"accuracy: {close / len(rows):.2f}")
