using System.Buffers;
using System.Collections.Concurrent;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// Migration of validated sessions to a new peer address (NAT rebinding), for one loop's listening socket, in our
/// AEAD modes with address validation (see docs/address-validation.md, "Migration"). A datagram from an address
/// with no session whose nonce names the sender of a live session here (or, through the listener's
/// <see cref="MigrationDirectory"/>, on another loop, which gets it handed over) must open under the key, pass
/// that session's replay window and carry its conv; then its KCP payload is processed and, when it is the newest
/// the sender sent, a <see cref="PathCheck"/> of its address starts while the session keeps its address. The
/// session moves once the path check succeeds. Loop thread, but for <see cref="TryHandle"/>'s hand-over.
/// </summary>
internal sealed class SessionMigration : ILoopWorkItem
{
    /// <summary>Datagrams handed over by other loops and not yet run; more are dropped (counted).</summary>
    private const int MaxInbox = 1024;

    private readonly IKcpLoop _loop;
    private readonly IDatagramChannel _channel;
    private readonly PacketCipher _cipher;
    private readonly bool _fec;
    private readonly MigrationDirectory _directory;
    private readonly Dictionary<UdpAddressKey, KcpSession> _sessions;
    private readonly Dictionary<uint, KcpSession> _bySender = [];
    private readonly Dictionary<KcpSession, PathCheck> _checks = [];
    private readonly ConcurrentQueue<Handover> _inbox = new();
    private int _inboxLength;
    private int _inboxPosted;

    /// <summary>For the socket on <paramref name="loop"/> whose address → session table is <paramref name="sessions"/> (updated when a session moves).</summary>
    public SessionMigration(IKcpLoop loop, IDatagramChannel channel, PacketCipher cipher, bool fec, MigrationDirectory directory, Dictionary<UdpAddressKey, KcpSession> sessions)
    {
        _loop = loop;
        _channel = channel;
        _cipher = cipher;
        _fec = fec;
        _directory = directory;
        _sessions = sessions;
    }

    /// <summary>Whether sessions may migrate: the setting is on, and the mode validates addresses (ours, replay-protected).</summary>
    public static bool AppliesTo(KcpOptions options, PacketCipher cipher) => options.Migration && AddressValidation.AppliesTo(options, cipher);

    /// <summary>A validated session opened here: its sender prefix finds it from any loop.</summary>
    public void Register(KcpSession session)
    {
        // A prefix another live session holds (odds 2^-32 per pair): this session alone cannot migrate.
        if (session.ReplayWindow is { IsBound: true } window && _bySender.TryAdd(window.Sender, session) && !_directory.TryAdd(window.Sender, this))
        {
            _bySender.Remove(window.Sender);
        }
    }

    /// <summary>The session ended: forget its prefix and any check of it.</summary>
    public void Unregister(KcpSession session)
    {
        if (session.ReplayWindow is { IsBound: true } window
            && _bySender.TryGetValue(window.Sender, out var known) && ReferenceEquals(known, session))
        {
            _bySender.Remove(window.Sender);
            _directory.Remove(window.Sender, this);
        }

        if (_checks.Remove(session, out var check))
        {
            check.Stop();
        }
    }

    /// <summary>
    /// A datagram from an address with no session on this socket: true when its sender prefix belongs to a live
    /// session (handled here or handed to its loop, whatever became of it), false to admit it as a stranger.
    /// </summary>
    public bool TryHandle(Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
    {
        if (!AeadPacketCipher.TryReadNonce(datagram, out var sender, out var sequence) || !_directory.TryGet(sender, out var owner))
        {
            return false;
        }

        // Authenticated here, without the owner's window (another thread's); the owner checks freshness.
        if (_cipher.Open(datagram, null, out var offset, out var length) != CipherResult.Ok)
        {
            _loop.Counters.DroppedCipher++;
            return true;
        }

        var payload = datagram.Slice(offset, length);
        if (ReferenceEquals(owner, this))
        {
            OnAuthenticated(sender, sequence, sockaddr, payload, datagram.Length, now);
        }
        else if (!owner.TryHandOver(sender, sequence, sockaddr, payload, datagram.Length))
        {
            _loop.Counters.DroppedHandover++;
        }

        return true;
    }

    /// <summary>Runs the datagrams other loops handed over. Loop thread.</summary>
    public void Execute(KcpIoLoop loop, uint now)
    {
        Volatile.Write(ref _inboxPosted, 0);
        while (_inbox.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref _inboxLength);
            var bytes = item.Buffer.AsSpan();
            OnAuthenticated(item.Sender, item.Sequence, bytes[..item.SockaddrLength], bytes.Slice(item.SockaddrLength, item.PayloadLength), item.WireBytes, now);
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }

    /// <summary>Queues an opened datagram for this loop. Any thread; false when the inbox is full.</summary>
    private bool TryHandOver(uint sender, ulong sequence, ReadOnlySpan<byte> sockaddr, ReadOnlySpan<byte> payload, int wireBytes)
    {
        if (Interlocked.Increment(ref _inboxLength) > MaxInbox)
        {
            Interlocked.Decrement(ref _inboxLength);
            return false;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(sockaddr.Length + payload.Length);
        sockaddr.CopyTo(buffer);
        payload.CopyTo(buffer.AsSpan(sockaddr.Length));
        _inbox.Enqueue(new Handover(buffer, sockaddr.Length, payload.Length, sender, sequence, wireBytes));
        if (Interlocked.Exchange(ref _inboxPosted, 1) == 0)
        {
            _loop.Post(this);
        }

        return true;
    }

    /// <summary>An authenticated datagram of one of this loop's senders, from an address other than its session's.</summary>
    private void OnAuthenticated(uint sender, ulong sequence, ReadOnlySpan<byte> sockaddr, ReadOnlySpan<byte> payload, int wireBytes, uint now)
    {
        var counters = _loop.Counters;
        if (!_bySender.TryGetValue(sender, out var session) || session.IsEnded || session.ReplayWindow is not { } window
            || !UdpAddressKey.TryRead(sockaddr, out var key))
        {
            counters.DroppedNoSession++;
            return;
        }

        if (window.Check(sender, sequence) != CipherResult.Ok)
        {
            // A captured datagram replayed from a new address moves nothing.
            counters.DroppedReplay++;
            return;
        }

        // Only the newest datagram may start a check (QUIC's rule): a late one from an old path must not pull the session back.
        var newest = sequence > window.Highest;
        window.Commit(sender, sequence);
        _checks.TryGetValue(session, out var check);
        if (PathValidation.TryRead(payload, out var conv, out var cmd, out var data))
        {
            if (cmd != PathValidation.ResponseCommand || conv != session.Conv)
            {
                counters.DroppedMalformed++;
            }
            else if (check is not null && check.TryComplete(key, data))
            {
                Move(session, key, sockaddr);
            }

            // Otherwise a late answer to a check already decided.
            return;
        }

        if (key == session.Key)
        {
            // The session's own address, handed over by the loop that address hashes to since the session moved.
            session.OnPacket(payload, now, wireBytes);
            return;
        }

        var hasSegment = KcpServerSocket.TryReadSegment(payload, _fec, out var segmentConv, out _, out _);
        if (hasSegment && segmentConv != session.Conv)
        {
            counters.DroppedWrongConv++;
            return;
        }

        if (check is { IsActive: true } && check.Candidate == key)
        {
            check.OnReceived(wireBytes);
        }
        else if (hasSegment && newest && !session.RequiresAddressProof)
        {
            if (check is null)
            {
                check = new PathCheck(session, _loop, _channel, _cipher);
                _checks[session] = check;
            }

            if (check.MayStart(now))
            {
                check.Start(key, sockaddr, wireBytes, now);
            }
        }

        // Authenticated and fresh: its segments count. What they make us send goes to the session's address.
        session.OnPacket(payload, now, wireBytes);
    }

    /// <summary>The path check succeeded: the session lives at <paramref name="key"/> from now on.</summary>
    private void Move(KcpSession session, UdpAddressKey key, ReadOnlySpan<byte> sockaddr)
    {
        if (_sessions.ContainsKey(key))
        {
            // Another session of this socket holds the address: nothing to move to.
            return;
        }

        if (_sessions.TryGetValue(session.Key, out var current) && ReferenceEquals(current, session))
        {
            _sessions.Remove(session.Key);
        }

        _sessions[key] = session;
        session.MoveTo(key, sockaddr);
        _loop.Counters.SessionsMigrated++;
    }

    private readonly record struct Handover(byte[] Buffer, int SockaddrLength, int PayloadLength, uint Sender, ulong Sequence, int WireBytes);
}
