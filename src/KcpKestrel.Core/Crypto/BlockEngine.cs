namespace KcpKestrel.Core.Crypto;

/// <summary>
/// A block cipher's forward direction (all that CFB needs), plus kcp-go's packet CFB over it.
/// Engines with hardware support override the CFB loops wholesale.
/// </summary>
internal abstract class BlockEngine : IDisposable
{
    private byte[]? _initialKeystream;

    /// <summary>kcp-go's fixed CFB initial vector (crypt.go); 8-byte ciphers use its first 8 bytes.</summary>
    public static ReadOnlySpan<byte> InitialVector =>
        [167, 115, 79, 156, 18, 172, 27, 1, 164, 21, 242, 193, 252, 120, 230, 107];

    /// <summary>8 or 16.</summary>
    public abstract int BlockSize { get; }

    /// <summary>Encrypts one block; <paramref name="source"/> and <paramref name="destination"/> do not overlap.</summary>
    public abstract void EncryptBlock(ReadOnlySpan<byte> source, Span<byte> destination);

    /// <summary>ECB-encrypts whole blocks in place (the nonce generator's keystream).</summary>
    public virtual void EncryptBlocksInPlace(Span<byte> data)
    {
        var bs = BlockSize;
        Span<byte> tmp = stackalloc byte[16];
        for (var i = 0; i + bs <= data.Length; i += bs)
        {
            EncryptBlock(data.Slice(i, bs), tmp);
            tmp[..bs].CopyTo(data.Slice(i, bs));
        }
    }

    /// <summary>
    /// kcp-go's CFB encryption in place: full-block feedback from the fixed IV, the last partial
    /// block XORed with the next keystream block.
    /// </summary>
    public virtual void CfbEncrypt(Span<byte> data)
    {
        var bs = BlockSize;
        Span<byte> feedback = stackalloc byte[16];
        feedback = feedback[..bs];
        InitialKeystream.CopyTo(feedback);
        var i = 0;
        for (; i + bs <= data.Length; i += bs)
        {
            var block = data.Slice(i, bs);
            Xor(block, feedback);
            EncryptBlock(block, feedback);
        }

        Xor(data[i..], feedback);
    }

    /// <summary>
    /// kcp-go's CFB decryption in place of <paramref name="data"/>, which follows <paramref name="previous"/>
    /// (the ciphertext block before it, or empty at the start of the stream). A decryption can thus stop at a
    /// block boundary and resume later, as long as the block before the resume point is still ciphertext.
    /// </summary>
    public virtual void CfbDecrypt(ReadOnlySpan<byte> previous, Span<byte> data)
    {
        var bs = BlockSize;
        Span<byte> registers = stackalloc byte[32];
        var feedback = registers[..bs];
        var next = registers.Slice(16, bs);
        if (previous.IsEmpty)
        {
            InitialKeystream.CopyTo(feedback);
        }
        else
        {
            EncryptBlock(previous[..bs], feedback);
        }

        var i = 0;
        for (; i + bs <= data.Length; i += bs)
        {
            var block = data.Slice(i, bs);
            EncryptBlock(block, next);
            Xor(block, feedback);
            var t = feedback;
            feedback = next;
            next = t;
        }

        Xor(data[i..], feedback);
    }

    /// <summary>
    /// E(IV), the first keystream block of every datagram, computed once (lazily: the derived engine's key
    /// schedule does not exist yet while this constructor runs).
    /// </summary>
    private ReadOnlySpan<byte> InitialKeystream
    {
        get
        {
            if (_initialKeystream is null)
            {
                var keystream = new byte[BlockSize];
                EncryptBlock(InitialVector[..BlockSize], keystream);
                _initialKeystream = keystream;
            }

            return _initialKeystream;
        }
    }

    /// <summary>data[i] ^= key[i] over data's length (key at least as long).</summary>
    protected static void Xor(Span<byte> data, ReadOnlySpan<byte> key)
    {
        for (var i = 0; i < data.Length; i++)
        {
            data[i] ^= key[i];
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Clears key schedules.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_initialKeystream is not null)
        {
            Array.Clear(_initialKeystream);
        }
    }
}
