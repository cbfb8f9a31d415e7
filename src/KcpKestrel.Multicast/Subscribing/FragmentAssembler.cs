using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Subscribing;

/// <summary>
/// Rebuilds one fragmented message of a publisher stream. Frames arrive in sequence order (the
/// track delivers in order), so one message is in progress at a time. The buffer grows to the
/// largest message seen, bounded by <c>maxMessageSize</c>, and is then reused.
/// </summary>
internal sealed class FragmentAssembler(int maxMessageSize)
{
    private byte[] _buffer = [];
    private int _length;
    private uint _total;
    private byte _topic;
    private State _state;

    private enum State
    {
        Idle,
        Active,

        /// <summary>Dropping the rest of a message nobody wants (topic not subscribed, or too large).</summary>
        Skipping,
    }

    /// <summary>The message <see cref="Accept"/> completed; valid until the next call.</summary>
    public ReadOnlySpan<byte> Message => _buffer.AsSpan(0, _length);

    /// <summary>
    /// Takes one fragment frame; true when it completed a message (<see cref="Message"/>). Counts
    /// every message it has to give up in <paramref name="counters"/>.
    /// </summary>
    public bool Accept(in Frame frame, bool wanted, SubscriberCounters counters)
    {
        if ((frame.Flags & FrameFlags.First) != 0)
        {
            if (_state == State.Active)
            {
                counters.BrokenMessages++;
            }

            if (!wanted || frame.TotalLength > (uint)maxMessageSize)
            {
                if (wanted)
                {
                    counters.BrokenMessages++;
                }

                _state = State.Skipping;
                return false;
            }

            if (_buffer.Length < frame.TotalLength)
            {
                _buffer = new byte[Math.Min(maxMessageSize, Math.Max(frame.TotalLength, (uint)_buffer.Length * 2))];
            }

            _state = State.Active;
            _topic = frame.Topic;
            _total = frame.TotalLength;
            _length = 0;
        }
        else if (_state != State.Active)
        {
            if (_state == State.Idle)
            {
                counters.BrokenMessages++;
                _state = State.Skipping;
            }

            if ((frame.Flags & FrameFlags.Last) != 0)
            {
                _state = State.Idle;
            }

            return false;
        }

        if (frame.Topic != _topic || frame.TotalLength != _total || (uint)(_length + frame.Payload.Length) > _total)
        {
            counters.BrokenMessages++;
            _state = (frame.Flags & FrameFlags.Last) != 0 ? State.Idle : State.Skipping;
            return false;
        }

        frame.Payload.CopyTo(_buffer.AsSpan(_length));
        _length += frame.Payload.Length;
        if ((frame.Flags & FrameFlags.Last) == 0)
        {
            return false;
        }

        _state = State.Idle;
        if ((uint)_length != _total)
        {
            counters.BrokenMessages++;
            return false;
        }

        return true;
    }

    /// <summary>Gives up a message in progress (the stream skipped or lost packets).</summary>
    public void Reset(SubscriberCounters counters)
    {
        if (_state == State.Active)
        {
            counters.BrokenMessages++;
        }

        // Counted once: the rest of that message is skipped up to its Last or the next First.
        _state = _state == State.Active ? State.Skipping : _state;
    }
}
