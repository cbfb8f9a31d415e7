using System.Buffers;
using System.Globalization;
using KcpKestrel.Middleware.Pipes;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// One connection's idle and lifetime deadlines on a single timer: the timer sleeps until the nearer
/// deadline, then either closes the connection or (input arrived meanwhile) sleeps again.
/// </summary>
internal sealed class ConnectionTimeoutWatch : IPipeObserver, IDisposable
{
    private readonly ConnectionContext _context;
    private readonly ConnectionCloseReasonFeature _reason;
    private readonly TimeSpan _idle;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _timeProvider;
    private readonly long _start;
    private readonly ITimer _timer;
    private long _lastInput;
    private int _closed;

    public ConnectionTimeoutWatch(ConnectionContext context, ConnectionCloseReasonFeature reason, TimeSpan idle, TimeSpan lifetime, TimeProvider timeProvider)
    {
        _context = context;
        _reason = reason;
        _idle = idle;
        _lifetime = lifetime;
        _timeProvider = timeProvider;
        _start = _lastInput = timeProvider.GetTimestamp();
        _timer = timeProvider.CreateTimer(static s => ((ConnectionTimeoutWatch)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm(NextDue(_start));
    }

    public bool Closed => Volatile.Read(ref _closed) != 0;

    public TimeSpan GetReadDelay() => TimeSpan.Zero;

    public void OnReceived(in ReadOnlySequence<byte> data) => Volatile.Write(ref _lastInput, _timeProvider.GetTimestamp());

    public void OnSent(int count, ReadOnlySpan<byte> data)
    {
    }

    public TimeSpan GetFlushDelay(long pendingBytes) => TimeSpan.Zero;

    public void Dispose()
    {
        Volatile.Write(ref _closed, 1);
        _timer.Dispose();
    }

    private void OnTimer()
    {
        if (Closed)
        {
            return;
        }

        var now = _timeProvider.GetTimestamp();
        if (_lifetime != Timeout.InfiniteTimeSpan && _timeProvider.GetElapsedTime(_start, now) >= _lifetime)
        {
            Close(CloseReasons.LifetimeExceeded, string.Create(CultureInfo.InvariantCulture, $"Connection closed: it exceeded its maximum lifetime of {_lifetime}."));
            return;
        }

        if (_idle != Timeout.InfiniteTimeSpan && _timeProvider.GetElapsedTime(Volatile.Read(ref _lastInput), now) >= _idle)
        {
            Close(CloseReasons.IdleTimeout, string.Create(CultureInfo.InvariantCulture, $"Connection closed: the peer sent nothing for {_idle} (idle timeout)."));
            return;
        }

        Arm(NextDue(now));
    }

    private TimeSpan NextDue(long now)
    {
        var due = Timeout.InfiniteTimeSpan;
        if (_lifetime != Timeout.InfiniteTimeSpan)
        {
            due = _lifetime - _timeProvider.GetElapsedTime(_start, now);
        }

        if (_idle != Timeout.InfiniteTimeSpan)
        {
            var idleDue = _idle - _timeProvider.GetElapsedTime(Volatile.Read(ref _lastInput), now);
            due = due == Timeout.InfiniteTimeSpan ? idleDue : (idleDue < due ? idleDue : due);
        }

        return due == Timeout.InfiniteTimeSpan ? due : (due < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : due);
    }

    private void Arm(TimeSpan due)
    {
        try
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The connection ended while the timer ran.
        }
    }

    private void Close(string reason, string message)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _reason.TrySet(reason);
        _context.Abort(new ConnectionAbortedException(message));
    }
}
