namespace KcpKestrel.Multicast.Io;

/// <summary>
/// Stands between the protocol core and the user's <see cref="IMulticastReceiver"/> so that a callback
/// that throws cannot kill the receive thread: the exception is counted and reported, that message is
/// skipped (the core has already moved past it, as it would past a delivered one), and delivery goes
/// on with the next. Stopping the stream instead would turn one bad message into silent loss of all
/// the rest; a receiver that must not skip handles its own exceptions.
/// </summary>
internal sealed class ReceiverGuard(IMulticastReceiver inner) : IMulticastReceiver
{
    private long _failures;

    /// <summary>Raised on the receive thread for each exception a callback threw; a handler that throws is ignored.</summary>
    public event Action<Exception>? Failed;

    /// <summary>Callbacks that threw.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public void OnMessage(byte topic, ReadOnlySpan<byte> message)
    {
        try
        {
            inner.OnMessage(topic, message);
        }
        catch (Exception e)
        {
            Report(e);
        }
    }

    public void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last)
    {
        try
        {
            inner.OnUnrecoverable(publisher, stream, first, last);
        }
        catch (Exception e)
        {
            Report(e);
        }
    }

    public void OnPublisherGone(ushort publisher, uint stream)
    {
        try
        {
            inner.OnPublisherGone(publisher, stream);
        }
        catch (Exception e)
        {
            Report(e);
        }
    }

    private void Report(Exception e)
    {
        Interlocked.Increment(ref _failures);
        try
        {
            Failed?.Invoke(e);
        }
#pragma warning disable CA1031 // A failing observer must not take the receive thread down with it.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
