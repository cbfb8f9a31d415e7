using System.Runtime.InteropServices;
using KcpKestrel.IoUring;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// How other threads wake a worker sleeping in io_uring_enter: an eventfd whose READ the worker keeps armed
/// in its ring, written at most once per sleep (a flag the worker clears when the read completes).
/// </summary>
/// <remarks>
/// A wake-up asked for on a thread-pool thread (the app flushing a response) is not written at once but
/// queued to the pool, behind the app work already queued, as Kestrel's socket transport queues its sends
/// to an IOQueue. Written at once, the woken worker preempts the app on a shared core, sends the first of a
/// pipelined batch's responses alone and sleeps again, one round trip per response; queued, the app first
/// writes what it has and the worker sends it in one SEND.
/// </remarks>
internal sealed unsafe class IoUringTcpWaker : IThreadPoolWorkItem
{
    private int _eventfd = -1;
    private ulong* _value;
    private int _requested;
    private int _writersInside;
    private volatile bool _closing;

    /// <summary>Worker thread, at start: makes the eventfd; throws <see cref="IoUringUnavailableException"/> when it cannot.</summary>
    public void Open()
    {
        // Blocking on purpose: io_uring answers a read of a non-blocking eventfd with EAGAIN instead of waiting.
        _eventfd = IoUringTcpNative.eventfd(0, IoUringTcpNative.EfdCloexec);
        if (_eventfd < 0)
        {
            throw new IoUringUnavailableException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _value = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
    }

    /// <summary>Worker thread: arms the READ whose completion wakes the worker.</summary>
    public void Arm(IoUringRing ring, ulong userData) => ring.GetSqe()->PrepareRead(_eventfd, _value, sizeof(ulong), 0, userData);

    /// <summary>Worker thread: the READ completed; the next <see cref="Wake"/> writes again.</summary>
    public void OnWoken() => Volatile.Write(ref _requested, 0);

    /// <summary>Any thread but the worker: wake the worker (once per sleep; later calls ride on the pending one).</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _requested, 1) != 0)
        {
            return;
        }

        if (Thread.CurrentThread.IsThreadPoolThread)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        else
        {
            Write();
        }
    }

    void IThreadPoolWorkItem.Execute() => Write();

    /// <summary>Worker thread, at exit, after the ring is closed: waits out writers inside, then closes the eventfd.</summary>
    public void Close()
    {
        _closing = true;
        Interlocked.MemoryBarrier();
        while (Volatile.Read(ref _writersInside) != 0)
        {
            Thread.SpinWait(1);
        }

        if (_eventfd >= 0)
        {
            _ = IoUringTcpNative.close(_eventfd);
            _eventfd = -1;
        }

        NativeMemory.Free(_value);
        _value = null;
    }

    private void Write()
    {
        // A late wake-up (a flush completing after the worker stopped) must not write into a closed, perhaps
        // reused, fd number: Close waits for writers inside before it closes the eventfd.
        Interlocked.Increment(ref _writersInside);
        if (!_closing && _eventfd >= 0)
        {
            ulong one = 1;
            _ = IoUringTcpNative.write(_eventfd, &one, sizeof(ulong));
        }

        Interlocked.Decrement(ref _writersInside);
    }
}
