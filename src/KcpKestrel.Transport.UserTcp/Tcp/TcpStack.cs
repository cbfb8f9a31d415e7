using System.Net;
using System.Net.Sockets;
using KcpKestrel.Shared;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// One loop's TCP stack: the flow table that demultiplexes segments to connections, the listeners, active opens
/// with RFC 6056 ephemeral ports and RFC 6528 ISNs, SYN cookies (RFC 4987), resets for closed ports (RFC 9293
/// §3.10.7.1) and the stack-wide budgets (RFC 5961 §7). Pure: segments, app calls and time come in, segments go out
/// through <see cref="ITcpSegmentOutput"/>. Loop thread only; nothing here allocates per segment once a flow exists.
/// </summary>
internal sealed class TcpStack : ITcpSegmentInput, ITcpConnectionOwner, IDisposable
{
    private const ulong IsnLabel = 1;
    private const ulong CookieLabel = 2;
    private const ulong PortLabel = 3;
    private const int TimeWaitEvictionScan = 64;

    private readonly TcpStackOptions _options;
    private readonly Dictionary<TcpFlowKey, TcpConnection> _flows = [];
    private readonly Dictionary<TcpConnection, TcpListenerEntry> _halfOpen = new(ReferenceEqualityComparer.Instance);
    private readonly TcpListenerTable _listeners = new();
    private readonly InitialSequenceNumbers _isn;
    private readonly SynCookies _cookies;
    private readonly EphemeralPorts _ports;
    private readonly SegmentRateLimiter _challengeAcks;
    private readonly SegmentRateLimiter _resets;
    private readonly byte _windowScale;
    private TcpConnection? _cookieOpening;
    private bool _cookieHandedOff;
    private uint _lastNow;
    private bool _disposed;

    /// <param name="options">The stack's limits and its connections' options.</param>
    /// <param name="output">Where segments go.</param>
    /// <param name="timers">The loop's timer wheel: every connection is one entry on it.</param>
    /// <param name="secret">The key of ISNs, cookies and ports (at least 16 bytes); empty: a random one.</param>
    public TcpStack(TcpStackOptions options, ITcpSegmentOutput output, TimerWheel timers, ReadOnlySpan<byte> secret = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(timers);
        ArgumentOutOfRangeException.ThrowIfNegative(options.SynBacklog);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxConnections);

        _options = options;
        Output = output;
        Timers = timers;
        var key = StackSecret.From(secret);
        var (i0, i1) = key.Derive(IsnLabel);
        var (c0, c1) = key.Derive(CookieLabel);
        var (p0, p1) = key.Derive(PortLabel);
        _isn = new InitialSequenceNumbers(i0, i1);
        _cookies = new SynCookies(c0, c1);
        _ports = new EphemeralPorts(p0, p1, options.EphemeralPortMin, options.EphemeralPortMax);
        _challengeAcks = new SegmentRateLimiter(options.ChallengeAcksPerSecond);
        _resets = new SegmentRateLimiter(options.ResetsPerSecond);
        _windowScale = TcpConnection.ReceiveWindowScale(options.Connection);
    }

    public ITcpSegmentOutput Output { get; }

    public TimerWheel Timers { get; }

    public TcpCounters Counters { get; } = new();

    /// <summary>Connections in the flow table (every state, TIME_WAIT included).</summary>
    public int ConnectionCount => _flows.Count;

    /// <summary>Passively opened connections still in SYN-RECEIVED, over all listeners.</summary>
    public int HalfOpenCount => _halfOpen.Count;

    /// <summary>The connection of <paramref name="flow"/>, if the stack holds one.</summary>
    public bool TryGetConnection(in TcpFlowKey flow, out TcpConnection connection) =>
        _flows.TryGetValue(flow, out connection!);

    /// <summary>
    /// Listens on <paramref name="local"/> (IPAddress.Any: any of the stack's IPv4 addresses; IPv6Any: any address of
    /// either family). Throws when the same address and port is already listened on.
    /// </summary>
    public void Listen(IPEndPoint local, ITcpAcceptor acceptor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _listeners.Add(local, acceptor);
    }

    /// <summary>
    /// Stops listening on <paramref name="local"/>: new SYNs get resets; its half-open connections complete their
    /// handshake but are refused (reset) instead of accepted. False when nothing listened there.
    /// </summary>
    public bool StopListening(IPEndPoint local) => _listeners.Remove(local);

    /// <summary>
    /// Active open from <paramref name="local"/> (a specific address; port 0: an ephemeral port chosen so the 4-tuple
    /// is free) to <paramref name="remote"/>: sends the SYN and returns the connection (SYN-SENT); its
    /// <paramref name="events"/> say when it is ESTABLISHED or why it closed.
    /// </summary>
    public TcpConnection Connect(IPEndPoint local, IPEndPoint remote, ITcpConnectionEvents events, uint now)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(events);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (local.Address.Equals(IPAddress.Any) || local.Address.Equals(IPAddress.IPv6Any))
        {
            throw new ArgumentException("An active open needs a specific local address.", nameof(local));
        }

        if (remote.Port is <= 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(remote), "The remote endpoint needs a port (1-65535).");
        }

        if (!HasRoom(now))
        {
            Counters.DroppedMaxConnections++;
            throw new InvalidOperationException($"The stack holds its maximum of {_options.MaxConnections} connections.");
        }

        var flow = TcpFlowKey.From(local, remote);
        if (local.Port == 0)
        {
            flow = ChooseEphemeralPort(flow);
        }
        else if (_flows.ContainsKey(flow))
        {
            throw new SocketException((int)SocketError.AddressAlreadyInUse);
        }

        _lastNow = now;
        var connection = new TcpConnection(this, flow, _options.Connection) { Events = events };
        _flows.Add(flow, connection);
        Counters.ActiveOpens++;
        connection.OpenActive(_isn.Next(flow, now), now);
        return connection;
    }

    /// <inheritdoc/>
    public void OnSegment(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now)
    {
        _lastNow = now;
        if (_disposed)
        {
            return;
        }

        if (!HasValidFlags(header.Flags))
        {
            Counters.DroppedInvalidFlags++;
            return;
        }

        if (_flows.TryGetValue(flow, out var connection))
        {
            connection.OnSegment(header, payload, now);
            return;
        }

        var listener = _listeners.Find(flow);
        if (listener is not null)
        {
            OnListenerSegment(listener, flow, header, payload, now);
            return;
        }

        // RFC 9293 §3.10.7.1, CLOSED: everything but a reset is answered with a reset.
        Counters.DroppedNoConnection++;
        if (!header.Has(TcpFlags.Rst))
        {
            SendReset(flow, header, payload.Length, now);
        }
    }

    /// <summary>Fires every connection timer due at or before <paramref name="now"/> (the loop calls it every turn).</summary>
    public void RunTimers(uint now)
    {
        _lastNow = now;
        Timers.Advance(now);
    }

    /// <summary>Milliseconds until the next timer is due (capped by the wheel), -1 when none: the loop's wait.</summary>
    public int NextTimeout(uint now) => Timers.NextTimeout(now);

    /// <inheritdoc/>
    public bool OnPassiveEstablished(TcpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (ReferenceEquals(connection, _cookieOpening))
        {
            _cookieHandedOff = true;
        }

        if (!_halfOpen.Remove(connection, out var listener))
        {
            // A cookie's connection was never half-open: its listener is the one listening now.
            listener = _listeners.Find(connection.Flow);
        }
        else
        {
            listener.HalfOpen--;
        }

        if (listener is null || listener.IsStopped || _disposed)
        {
            // Nobody listens there any more (stopped, or a reopened TIME_WAIT of a port never listened on).
            return false;
        }

        if (!listener.Acceptor.TryAccept(connection))
        {
            Counters.AcceptQueueFull++;
            return false;
        }

        return true;
    }

    /// <inheritdoc/>
    public void OnReleased(TcpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_flows.TryGetValue(connection.Flow, out var held) && ReferenceEquals(held, connection))
        {
            _flows.Remove(connection.Flow);
        }

        if (_halfOpen.Remove(connection, out var listener))
        {
            listener.HalfOpen--;
        }

        Timers.Remove(connection);
    }

    /// <inheritdoc/>
    public bool TryTakeChallengeAck(uint now)
    {
        if (_challengeAcks.TryTake(now))
        {
            return true;
        }

        Counters.ChallengeAcksLimited++;
        return false;
    }

    /// <summary>Aborts every connection (RST to each peer) and forgets the listeners.</summary>
    public void Shutdown(uint now)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _listeners.Clear();
        var connections = new TcpConnection[_flows.Count];
        _flows.Values.CopyTo(connections, 0);
        foreach (var connection in connections)
        {
            if (connection.State != TcpState.Closed)
            {
                connection.Abort(now);
            }

            Timers.Remove(connection);
        }

        _flows.Clear();
        _halfOpen.Clear();
    }

    /// <summary>As <see cref="Shutdown"/> at the last time the stack saw.</summary>
    public void Dispose() => Shutdown(_lastNow);

    // RFC 9293 leaves these meaningless; Linux drops them too. SYN+FIN and SYN+RST are scanner or attack
    // patterns, and a segment with none of SYN, ACK, RST (null, FIN-only, "Xmas") is never valid in any state.
    private static bool HasValidFlags(TcpFlags flags) =>
        (flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) != 0
        && ((flags & TcpFlags.Syn) == 0 || (flags & (TcpFlags.Fin | TcpFlags.Rst)) == 0);

    private void OnListenerSegment(TcpListenerEntry listener, in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload, uint now)
    {
        // RFC 9293 §3.10.7.2, LISTEN: a reset is ignored, an ACK is answered with a reset (unless it returns a cookie).
        if (header.Has(TcpFlags.Rst))
        {
            Counters.RstIgnored++;
            return;
        }

        if (header.Has(TcpFlags.Ack))
        {
            if (!header.Has(TcpFlags.Syn) && CookiesLive(listener, now))
            {
                if (TryOpenFromCookie(flow, header, payload, now))
                {
                    return;
                }

                Counters.DroppedBadCookie++;
            }
            else
            {
                Counters.DroppedNoConnection++;
            }

            SendReset(flow, header, payload.Length, now);
            return;
        }

        // A SYN (HasValidFlags let nothing else without ACK through).
        if (!HasRoom(now))
        {
            Counters.DroppedMaxConnections++;
            return;
        }

        if (_options.SynCookies == SynCookieMode.Always || listener.HalfOpen >= _options.SynBacklog)
        {
            if (_options.SynCookies == SynCookieMode.Never)
            {
                Counters.DroppedListenQueueFull++;
                return;
            }

            SendCookie(listener, flow, header, now);
            return;
        }

        var connection = new TcpConnection(this, flow, _options.Connection);
        _flows.Add(flow, connection);
        _halfOpen.Add(connection, listener);
        listener.HalfOpen++;
        Counters.PassiveOpens++;
        connection.OpenPassive(header, _isn.Next(flow, now), now);
    }

    private bool CookiesLive(TcpListenerEntry listener, uint now) =>
        _options.SynCookies == SynCookieMode.Always
        || (_options.SynCookies == SynCookieMode.WhenBacklogFull && listener.HasSentCookies
            && ((SynCookies.Counter(now) - SynCookies.Counter(listener.LastCookieNow)) & 0xFFFF) <= SynCookies.MaxAge);

    private void SendCookie(TcpListenerEntry listener, in TcpFlowKey flow, in TcpHeader syn, uint now)
    {
        var connectionOptions = _options.Connection;

        // Encode only what both sides will use: what we do not speak is as if the peer had not offered it.
        var peer = syn.Options;
        peer.HasWindowScale &= connectionOptions.WindowScaling;
        peer.SackPermitted &= connectionOptions.Sack;
        var cookie = _cookies.Create(flow, syn.Seq, peer, now, out _);

        var synAck = default(TcpHeader);
        synAck.Seq = cookie;
        synAck.Ack = unchecked(syn.Seq + 1);
        synAck.Flags = TcpFlags.Syn | TcpFlags.Ack;
        synAck.Window = (ushort)Math.Min(connectionOptions.ReceiveBufferSize, ushort.MaxValue);
        synAck.Options.Mss = connectionOptions.Mss;
        if (peer.HasWindowScale)
        {
            synAck.Options.HasWindowScale = true;
            synAck.Options.WindowScale = _windowScale;
        }

        synAck.Options.SackPermitted = peer.SackPermitted;
        if (peer.HasTimestamps && connectionOptions.Timestamps)
        {
            synAck.Options.HasTimestamps = true;
            // TcpConnection's TSval clock is now plus a per-4-tuple offset, the flow's hash (RFC 7323 §5.4): the
            // cookie SYN-ACK must already run on it, or the connection's later TSvals would jump and the peer's
            // PAWS could drop them (a test checks the continuity).
            synAck.Options.TsVal = unchecked(now + (uint)flow.GetHashCode());
            synAck.Options.TsEcr = peer.TsVal;
        }

        listener.HasSentCookies = true;
        listener.LastCookieNow = now;
        Counters.SynCookiesSent++;
        Output.Send(flow, synAck, default, default);
    }

    private bool TryOpenFromCookie(in TcpFlowKey flow, in TcpHeader ack, ReadOnlySpan<byte> payload, uint now)
    {
        var peerIsn = unchecked(ack.Seq - 1);
        var cookie = unchecked(ack.Ack - 1);
        if (!_cookies.TryValidate(flow, peerIsn, cookie, now, out var mss, out var peerWindowScale, out var sackPermitted))
        {
            return false;
        }

        if (!HasRoom(now))
        {
            // A valid cookie, but no room: silence, as for a SYN past the limit (the peer retransmits).
            Counters.DroppedMaxConnections++;
            return true;
        }

        mss = Math.Min(mss, _options.Connection.Mss);
        var connection = new TcpConnection(this, flow, _options.Connection);
        _flows.Add(flow, connection);
        Counters.PassiveOpens++;
        Counters.SynCookiesAccepted++;
        _cookieOpening = connection;
        _cookieHandedOff = false;
        try
        {
            connection.OpenFromCookie(ack, cookie, mss, peerWindowScale, sackPermitted, payload, now);

            // If the connection did not report itself established, hand it over here, once.
            if (!_cookieHandedOff && connection.State == TcpState.Established && !OnPassiveEstablished(connection))
            {
                connection.Abort(now);
            }
        }
        finally
        {
            _cookieOpening = null;
        }

        return true;
    }

    /// <summary>
    /// Whether the flow table has room for one more connection. When full, a TIME_WAIT connection among the first
    /// <see cref="TimeWaitEvictionScan"/> flows gives its place (as Linux caps TIME_WAIT with tcp_max_tw_buckets):
    /// closing many short connections must not lock out new ones for 2 MSL. The scan is bounded, so a table full of
    /// live connections costs a SYN flood little.
    /// </summary>
    private bool HasRoom(uint now)
    {
        if (_flows.Count < _options.MaxConnections)
        {
            return true;
        }

        TcpConnection? victim = null;
        var scanned = 0;
        foreach (var connection in _flows.Values)
        {
            if (connection.State == TcpState.TimeWait)
            {
                victim = connection;
                break;
            }

            if (++scanned == TimeWaitEvictionScan)
            {
                break;
            }
        }

        if (victim is null)
        {
            return false;
        }

        // In TIME_WAIT an abort sends nothing and tells nobody (the user heard Closed already); it releases the flow.
        victim.Abort(now);
        Counters.TimeWaitEvicted++;
        return _flows.Count < _options.MaxConnections;
    }

    private void SendReset(in TcpFlowKey flow, in TcpHeader header, int payloadLength, uint now)
    {
        if (!_resets.TryTake(now))
        {
            Counters.ResetsRateLimited++;
            return;
        }

        var reset = default(TcpHeader);
        if (header.Has(TcpFlags.Ack))
        {
            // <SEQ=SEG.ACK><CTL=RST>
            reset.Seq = header.Ack;
            reset.Flags = TcpFlags.Rst;
        }
        else
        {
            // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN and FIN each count one.
            var length = (uint)payloadLength + (header.Has(TcpFlags.Syn) ? 1u : 0) + (header.Has(TcpFlags.Fin) ? 1u : 0);
            reset.Ack = unchecked(header.Seq + length);
            reset.Flags = TcpFlags.Rst | TcpFlags.Ack;
        }

        Counters.ResetsSent++;
        Output.Send(flow, reset, default, default);
    }

    private TcpFlowKey ChooseEphemeralPort(in TcpFlowKey template)
    {
        var offset = _ports.Offset(template.LocalAddress, template.RemoteAddress, template.RemotePort, template.IsIPv6);
        for (var i = 0; i < _ports.Count; i++)
        {
            var port = _ports.NextCandidate(offset);
            var flow = new TcpFlowKey(template.LocalAddress, port, template.RemoteAddress, template.RemotePort, template.IsIPv6);
            if (!_flows.ContainsKey(flow) && _listeners.Find(flow) is null)
            {
                return flow;
            }
        }

        throw new SocketException((int)SocketError.AddressAlreadyInUse);
    }
}
