using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Core.Fec;
using KcpKestrel.Shared;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// The listening side of one I/O loop: one SO_REUSEPORT socket, the sessions the kernel hashed to
/// it, their tombstones, and the admission rules for new remote endpoints.
/// </summary>
internal sealed class KcpServerSocket : TimerWheelEntry, IDatagramReceiver, IKcpSessionOwner, ILoopWorkItem
{
    private const uint HousekeepingMs = 1000;

    private readonly IKcpLoop _loop;
    private readonly IKcpListenerHost _host;
    private readonly KcpOptions _options;
    private readonly PacketCipher _cipher;
    private readonly Dictionary<UdpAddressKey, KcpSession> _sessions = [];
    private readonly Dictionary<(UdpAddressKey Key, uint Conv), uint> _tombstones = [];
    private readonly List<(UdpAddressKey Key, uint Conv)> _expired = [];
    private readonly TokenBucket? _newSessions;

    // Address validation (our AEAD modes only, see AddressValidation): token minting and checking, and the
    // RETRYs' rate. Null in every other mode.
    private readonly AddressTokens? _tokens;
    private readonly TokenBucket? _retries;
    private readonly bool _fec;
    private readonly SessionMigration? _migration;
    private readonly uint _tombstoneMs;
    private ReplayWindow _spareWindow = new();
    private bool _shutdown;

    public KcpServerSocket(IKcpLoop loop, IDatagramChannel channel, IKcpListenerHost host, KcpOptions options)
    {
        _loop = loop;
        Channel = channel;
        _host = host;
        _options = options;
        _cipher = KcpCrypt.Create(options);
        _fec = KcpDatagramOutput.HasFec(options);
        _tombstoneMs = (uint)options.TombstoneLifetime.TotalMilliseconds;
        if (options.NewSessionsPerSecond > 0)
        {
            // Each loop admits its share, a second's worth at most in a burst.
            var perLoop = Math.Max(1, options.NewSessionsPerSecond / Math.Max(1, options.IoLoopCount));
            _newSessions = new TokenBucket(perLoop, capacity: perLoop);
        }

        if (AddressValidation.AppliesTo(options, _cipher))
        {
            _tokens = new AddressTokens(options.AddressTokenLifetime);
            if (_newSessions is not null)
            {
                // RETRYs at most at the rate sessions may open: each legitimate dial costs one of each.
                _retries = new TokenBucket(_newSessions.PerSecond, capacity: _newSessions.Capacity);
            }
        }

        if (SessionMigration.AppliesTo(options, _cipher))
        {
            _migration = new SessionMigration(loop, channel, _cipher, _fec, host.Migrations, _sessions);
        }
    }

    public IDatagramChannel Channel { get; }

    public int SessionCount => _sessions.Count;

    public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
    {
        var counters = _loop.Counters;
        if (!UdpAddressKey.TryRead(sockaddr, out var key))
        {
            counters.DroppedMalformed++;
            return;
        }

        if (!_sessions.TryGetValue(key, out var session) && _migration is not null && _migration.TryHandle(datagram, sockaddr, now))
        {
            // A live session's peer from a new address (see SessionMigration): never a new session.
            return;
        }

        ReplayWindow? window = null;
        if (_cipher.SupportsReplayWindow)
        {
            // A peer's first datagram binds a fresh window, handed to its session if one opens.
            window = session?.ReplayWindow ?? _spareWindow;
            if (session is null)
            {
                _spareWindow.Reset();
            }
        }

        var opened = _cipher.Open(datagram, window, out var offset, out var length);
        var newSender = false;
        if (opened == CipherResult.UnknownSender && session is not null)
        {
            // Another sender prefix on this session's address: a restarted client (a new cipher instance)
            // behind the same address. Authenticate it against a fresh window (the check refused it before
            // decrypting anything); whether it may replace the session depends on what it carries, below.
            _spareWindow.Reset();
            window = _spareWindow;
            opened = _cipher.Open(datagram, window, out offset, out length);
            newSender = opened == CipherResult.Ok;
        }

        if (opened != CipherResult.Ok)
        {
            if (opened == CipherResult.Replayed)
            {
                counters.DroppedReplay++;
            }
            else
            {
                counters.DroppedCipher++;
            }

            return;
        }

        var payload = datagram.Slice(offset, length);
        bool hasHeader;
        uint conv;
        KcpCommand cmd;
        uint sn;

        // With address validation, a session opens only from a TOKEN datagram echoing a valid token; its
        // segments ride behind the token, outside FEC ("unframed").
        var validated = false;
        if (_tokens is not null && AddressValidation.TryRead(payload, out var tokenConv, out var control, out var token, out var rest))
        {
            if (control != AddressValidation.TokenCommand)
            {
                counters.DroppedMalformed++;
                return;
            }

            if (session is not null && !newSender && tokenConv == session.Conv)
            {
                // A repeat of the probe that opened this session (our answer was lost): its WASK is answered again.
                session.OnUnframedSegments(rest, now, datagram.Length);
                return;
            }

            if (AddressValidation.IsEmptyToken(token) || _tokens.Verify(key, token, now) != AddressTokenResult.Valid)
            {
                Unvalidated(key, sockaddr, tokenConv, datagram.Length, now);
                return;
            }

            validated = true;
            payload = payload[AddressValidation.RetrySize..];
            hasHeader = TryReadSegment(payload, fec: false, out conv, out cmd, out sn) && conv == tokenConv;
        }
        else
        {
            hasHeader = TryReadSegment(payload, _fec, out conv, out cmd, out sn);
        }

        if (session is not null)
        {
            if (newSender)
            {
                // Authenticated, so only a key holder can do this: a new sender replaces the session only
                // with the start of a new conversation (new conv, PUSH or our dial's WASK, sn 0); its
                // stragglers and old datagrams of a sender before it (tombstoned conv) do not.
                if (!hasHeader || conv == session.Conv || sn != 0
                    || (cmd != KcpCommand.Push && cmd != KcpCommand.WindowAsk) || IsTombstoned(key, conv, now))
                {
                    counters.DroppedCipher++;
                    return;
                }
            }
            else if (!hasHeader || conv == session.Conv)
            {
                if (validated)
                {
                    session.OnUnframedSegments(payload, now, datagram.Length);
                }
                else
                {
                    session.OnPacket(payload, now, datagram.Length);
                }

                return;
            }

            // A new conv from a known endpoint replaces the old session only when it starts a new
            // stream (PUSH with sn 0, as kcp-go does, or our validated dial's WASK); anything else is a stray.
            if (!newSender && ((cmd != KcpCommand.Push && !(validated && cmd == KcpCommand.WindowAsk)) || sn != 0 || IsTombstoned(key, conv, now)))
            {
                counters.DroppedWrongConv++;
                return;
            }

            // In our AEAD modes a replacement, too, needs a proven address; and it must be well-formed.
            if (!MayOpen(key, sockaddr, payload, conv, validated, datagram.Length, now))
            {
                return;
            }

            counters.SessionsReplaced++;
            session.End(KcpCloseReason.Replaced, sendClose: false);
        }

        if (!hasHeader || (cmd != KcpCommand.Push && cmd != KcpCommand.WindowAsk))
        {
            // Only data or a window probe (our clients' dial) opens a session; a stray ACK of a
            // session long gone does not.
            counters.DroppedNoSession++;
            return;
        }

        if (!MayOpen(key, sockaddr, payload, conv, validated, datagram.Length, now))
        {
            return;
        }

        if (IsTombstoned(key, conv, now))
        {
            counters.DroppedTombstone++;
            return;
        }

        if (_shutdown || !_host.IsAccepting)
        {
            counters.DroppedUnbound++;
            return;
        }

        if (!_host.TryReserveSession())
        {
            counters.DroppedMaxSessions++;
            return;
        }

        if (!_host.HasAcceptRoom)
        {
            _host.ReleaseSession();
            counters.DroppedAcceptQueueFull++;
            return;
        }

        if (!TryAdmitNewSession(now))
        {
            _host.ReleaseSession();
            counters.DroppedRateLimited++;
            return;
        }

        ReplayWindow? sessionWindow = null;
        if (window is not null)
        {
            sessionWindow = window;
            _spareWindow = new ReplayWindow();
        }

        session = new KcpSession(_loop, Channel, key, sockaddr, conv, _options, _cipher, this, now)
        {
            ReplayWindow = sessionWindow,

            // A stranger's address is unproven until it acks what we send there (see AmplificationBudget),
            // unless it echoed our address token.
            RequiresAddressProof = !validated,
        };
        var connection = new KcpConnection(session, _host.LocalEndPoint, key.ToIPEndPoint(), _host.MemoryPool, _options);
        session.Attach(connection);
        _sessions[key] = session;
        _migration?.Register(session);
        counters.SessionsAccepted++;
        if (validated)
        {
            counters.SessionsValidated++;
            session.OnUnframedSegments(payload, now, datagram.Length);
        }
        else
        {
            session.OnPacket(payload, now, datagram.Length);
        }
        if (!session.IsEnded && !_host.TryEnqueueAccept(connection))
        {
            counters.DroppedAcceptQueueFull++;
            session.End(KcpCloseReason.Shutdown, sendClose: false);
        }
    }

    /// <summary>One token of the new-session rate (always granted without a rate).</summary>
    private bool TryAdmitNewSession(uint now)
    {
        if (_newSessions is null)
        {
            return true;
        }

        _newSessions.RefillMs(now);
        return _newSessions.TryTake(1);
    }

    /// <summary>
    /// The checks before a datagram may open (or replace) a session, counted when it may not. No session and no
    /// token in our AEAD modes: at most a RETRY, nothing that holds state. Malformed, checked before any session
    /// exists: a datagram KCP would reject must not open one.
    /// </summary>
    private bool MayOpen(UdpAddressKey key, ReadOnlySpan<byte> sockaddr, ReadOnlySpan<byte> payload, uint conv, bool validated, int wireBytes, uint now)
    {
        if (_tokens is not null && !validated)
        {
            Unvalidated(key, sockaddr, conv, wireBytes, now);
            return false;
        }

        if (!IsWellFormedFirstDatagram(payload, conv, _fec && !validated))
        {
            _loop.Counters.DroppedMalformed++;
            return false;
        }

        return true;
    }

    /// <summary>
    /// A datagram that would open or replace a session without a valid address token: dropped, and answered
    /// with one RETRY carrying a token for its source, only when the RETRY is no larger than it and the
    /// RETRY rate allows. Nothing is kept.
    /// </summary>
    private void Unvalidated(UdpAddressKey key, ReadOnlySpan<byte> sockaddr, uint conv, int wireBytes, uint now)
    {
        var counters = _loop.Counters;
        counters.DroppedUnvalidated++;
        var size = _cipher.Overhead + AddressValidation.RetrySize;
        if (wireBytes < size || _shutdown || !_host.IsAccepting)
        {
            return;
        }

        if (_retries is not null)
        {
            _retries.RefillMs(now);
            if (!_retries.TryTake(1))
            {
                return;
            }
        }

        Span<byte> token = stackalloc byte[AddressTokens.Size];
        _tokens!.Mint(key, now, token);
        var slot = Channel.BeginSend();
        AddressValidation.WriteHeader(slot[_cipher.HeaderSize..], conv, AddressValidation.RetryCommand, 0, 0, token);
        var total = _cipher.Seal(slot, AddressValidation.RetrySize);
        Channel.CommitSend(total, sockaddr);
        counters.RetriesSent++;
    }

    /// <summary>Reads conv, cmd and sn of the first KCP segment, behind the FEC header when <paramref name="fec"/>.</summary>
    internal static bool TryReadSegment(ReadOnlySpan<byte> payload, bool fec, out uint conv, out KcpCommand cmd, out uint sn)
    {
        conv = 0;
        cmd = 0;
        sn = 0;
        if (fec)
        {
            if (payload.Length < FecPacket.HeaderSizePlusSize + SegmentHeader.Size
                || BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]) != FecPacket.TypeData)
            {
                return false;
            }

            payload = payload[FecPacket.HeaderSizePlusSize..];
        }

        if (!SegmentHeader.TryRead(payload, out var header)
            || header.Cmd is < KcpCommand.Push or > KcpCommand.WindowTell && (byte)header.Cmd != KcpSession.CloseCommand)
        {
            return false;
        }

        conv = header.Conv;
        cmd = header.Cmd;
        sn = header.Sn;
        return true;
    }

    /// <summary>
    /// Whether the first datagram of a would-be session is one its new control block accepts whole: every
    /// segment of <paramref name="conv"/>, a known cmd, len within the datagram (and, with FEC, the shard's
    /// size field too, when <paramref name="fec"/>), una 0 (a new session has sent nothing), and every PUSH within the first receive window.
    /// </summary>
    private bool IsWellFormedFirstDatagram(ReadOnlySpan<byte> payload, uint conv, bool fec)
    {
        if (fec)
        {
            var size = BinaryPrimitives.ReadUInt16LittleEndian(payload[6..]);
            if (size < 2 || FecPacket.HeaderSize + size > payload.Length)
            {
                return false;
            }

            payload = payload.Slice(FecPacket.HeaderSizePlusSize, size - 2);
        }

        var window = (uint)Math.Clamp(_options.ReceiveWindow, 1, ushort.MaxValue);
        while (payload.Length >= SegmentHeader.Size)
        {
            SegmentHeader.TryRead(payload, out var h);
            if (h.Conv != conv
                || h.Cmd is not (KcpCommand.Push or KcpCommand.Ack or KcpCommand.WindowAsk or KcpCommand.WindowTell)
                || h.Len > (uint)(payload.Length - SegmentHeader.Size)
                || h.Una != 0
                || (h.Cmd == KcpCommand.Push && h.Sn >= window))
            {
                return false;
            }

            payload = payload[(SegmentHeader.Size + (int)h.Len)..];
        }

        // Trailing bytes shorter than a header are ignored by KCP, as by kcp-go.
        return true;
    }

    private bool IsTombstoned(UdpAddressKey key, uint conv, uint now) =>
        _tombstones.TryGetValue((key, conv), out var until) && (int)(until - now) > 0;

    public void OnSessionEnded(KcpSession session)
    {
        if (_sessions.TryGetValue(session.Key, out var current) && ReferenceEquals(current, session))
        {
            _sessions.Remove(session.Key);
        }

        _migration?.Unregister(session);

        _host.ReleaseSession();
        if (_tombstoneMs > 0)
        {
            _tombstones[(session.Key, session.Conv)] = session.Now + _tombstoneMs;
        }
    }

    public void OnSessionReleased(KcpSession session)
    {
        // The socket is shared by every session of this loop: nothing to release per session.
    }

    /// <summary>Starts housekeeping on the loop (post as a work item once the loop runs).</summary>
    public void Execute(KcpIoLoop loop, uint now)
    {
        loop.AddChannel(Channel);
        loop.Timers.Schedule(this, now + HousekeepingMs);
    }

    public override void OnTimer(uint now)
    {
        foreach (var (entry, until) in _tombstones)
        {
            if ((int)(until - now) <= 0)
            {
                _expired.Add(entry);
            }
        }

        foreach (var entry in _expired)
        {
            _tombstones.Remove(entry);
        }

        _expired.Clear();
        if (!_shutdown)
        {
            _loop.Timers.Schedule(this, now + HousekeepingMs);
        }
    }

    /// <summary>Ends every session and stops admitting new ones. Loop thread.</summary>
    public void Shutdown()
    {
        _shutdown = true;
        _loop.Timers.Remove(this);
        var sessions = new List<KcpSession>(_sessions.Values);
        foreach (var session in sessions)
        {
            session.End(KcpCloseReason.Shutdown, sendClose: true);
        }

        Channel.FlushSends();
        _loop.RemoveChannel(Channel);
        _cipher.Dispose();
    }
}
