"""Page runs take turns: at most PAGE_SLOTS at once, re-entered freely by the thread holding
one, and every waiting run gets its turn."""
import threading
import time

from sgan_ui import admission


def test_at_most_page_slots_run_at_once_and_all_finish():
    running, most, done = [0], [0], []
    lock = threading.Lock()

    def page():
        with admission.page_slot():
            with admission.page_slot():  # a fragment inside the page's first run
                with lock:
                    running[0] += 1
                    most[0] = max(most[0], running[0])
                time.sleep(0.01)
                with lock:
                    running[0] -= 1
        done.append(1)

    threads = [threading.Thread(target=page) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(done) == 20
    assert most[0] == admission.PAGE_SLOTS


def test_a_slot_is_given_back_when_the_page_raises():
    for _ in range(admission.PAGE_SLOTS + 1):
        try:
            with admission.page_slot():
                raise RuntimeError("st.rerun() raises inside a page run")
        except RuntimeError:
            pass
    acquired = admission._slots.acquire(timeout=1)  # noqa: SLF001 - the slots are all free
    assert acquired
    admission._slots.release()  # noqa: SLF001
