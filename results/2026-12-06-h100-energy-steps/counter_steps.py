# How often does NVML's total-energy counter change, and by how much, under a steady load?
import ctypes, time, threading, torch
nv = ctypes.CDLL("libnvidia-ml.so.1"); nv.nvmlInit_v2()
h = ctypes.c_void_p(); nv.nvmlDeviceGetHandleByIndex_v2(0, ctypes.byref(h))
def energy():
    e = ctypes.c_ulonglong(); nv.nvmlDeviceGetTotalEnergyConsumption(h, ctypes.byref(e)); return e.value
def power():
    p = ctypes.c_uint(); nv.nvmlDeviceGetPowerUsage(h, ctypes.byref(p)); return p.value
a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
stop = False
def load():
    while not stop:
        for _ in range(20): a @ a
        torch.cuda.synchronize()
t = threading.Thread(target=load); t.start(); time.sleep(1.0)
changes = []; last = energy(); t0 = time.perf_counter(); polls = 0
while time.perf_counter() - t0 < 3.0:
    e = energy(); polls += 1
    if e != last: changes.append((time.perf_counter() - t0, e - last)); last = e
stop = True; t.join()
print("polls", polls, "changes", len(changes))
gaps = [changes[i][0] - changes[i-1][0] for i in range(1, len(changes))]
print("gap ms min/median/max", min(gaps)*1e3, sorted(gaps)[len(gaps)//2]*1e3, max(gaps)*1e3)
print("first 30 (t ms, dE mJ):", [(round(c[0]*1e3, 1), c[1]) for c in changes[:30]])
print("power mW now", power())
