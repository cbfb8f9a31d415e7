namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// One queue of a <see cref="LossyPacketSource"/>: the inner queue, with each direction's packets judged by its
/// <see cref="ImpairedDirection"/>. A held-back packet never stalls: one received is released when nothing newer is
/// waiting, one sent when the loop next goes idle (<see cref="Wait"/>) or closes.
/// </summary>
internal sealed class LossyPacketQueue : IPacketQueue
{
    private readonly IPacketQueue _inner;
    private readonly ImpairedDirection _receive;
    private readonly ImpairedDirection _send;

    public LossyPacketQueue(IPacketQueue inner, ImpairedDirection receive, ImpairedDirection send)
    {
        _inner = inner;
        _receive = receive;
        _send = send;
    }

    /// <inheritdoc/>
    public bool Wait(int timeoutMs)
    {
        // Idle: whatever was held back for reordering goes out now rather than wait for a successor.
        FlushHeldSend();
        return _receive.HasPending || _inner.Wait(timeoutMs);
    }

    /// <inheritdoc/>
    public void Wake() => _inner.Wake();

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        var r = _receive;
        if (r.CopyLength > 0)
        {
            var copy = r.Copied;
            copy.CopyTo(buffer);
            r.ClearCopy();
            return copy.Length;
        }

        if (r.HeldLength > 0 && r.HeldDue)
        {
            return DeliverHeld(buffer);
        }

        while (true)
        {
            var length = _inner.TryReceive(buffer);
            if (length == 0)
            {
                // Nothing to swap the held packet with: deliver it now rather than late.
                return r.HeldLength > 0 ? DeliverHeld(buffer) : 0;
            }

            var packet = buffer[..length];
            switch (r.Judge(length))
            {
                case PacketVerdict.Drop:
                    continue;
                case PacketVerdict.Hold:
                    r.Hold(packet);
                    continue;
                case PacketVerdict.Duplicate:
                    r.Copy(packet);
                    break;
            }

            r.HeldDue = r.HeldLength > 0;
            return length;
        }
    }

    /// <inheritdoc/>
    public void Send(ReadOnlySpan<byte> packet)
    {
        switch (_send.Judge(packet.Length))
        {
            case PacketVerdict.Drop:
                return;
            case PacketVerdict.Hold:
                _send.Hold(packet);
                return;
            case PacketVerdict.Duplicate:
                _inner.Send(packet);
                _inner.Send(packet);
                break;
            default:
                _inner.Send(packet);
                break;
        }

        FlushHeldSend();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        FlushHeldSend();
        _inner.Dispose();
    }

    private int DeliverHeld(Span<byte> buffer)
    {
        var held = _receive.Held;
        held.CopyTo(buffer);
        _receive.ClearHeld();
        return held.Length;
    }

    private void FlushHeldSend()
    {
        if (_send.HeldLength > 0)
        {
            _inner.Send(_send.Held);
            _send.ClearHeld();
        }
    }
}
